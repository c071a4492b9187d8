# A C-level recursion past the stack: the program dies by SIGSEGV, the parent reports it.
import sys
sys.setrecursionlimit(10 ** 8)
nested = []
for _ in range(3 * 10 ** 5):
    nested = [nested]
repr(nested)
