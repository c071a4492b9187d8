# /var/tmp is the box's own tmpfs: nothing reaches the host's /var/tmp.
open('/var/tmp/{{MARKER}}', 'w').write('left behind?')
