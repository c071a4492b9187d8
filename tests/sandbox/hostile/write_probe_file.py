# A world-writable file outside the box.
open('{{PROBE}}/victim.txt', 'w').write('ESC' 'APED')
