import os
print(os.listdir('{{PROBE}}'))
