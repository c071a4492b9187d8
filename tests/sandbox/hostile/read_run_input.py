# The run's --input JSONL (world-readable on the host) is not in the box.
print(open('{{SECRET}}').read())
