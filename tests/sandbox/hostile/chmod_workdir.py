# A folder the parent could not clean up: irrelevant, the tmpfs vanishes with the box.
import os
os.makedirs('a/b/c')
open('a/b/c/f', 'w').write('x')
os.chmod('a/b/c', 0)
os.chmod('a/b', 0)
os.chmod('a', 0)
os.chmod('.', 0)
