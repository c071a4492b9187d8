# The box's PID 1 (bubblewrap's init) can be reached through /proc/1/mem by a program of the same uid, so
# it must be no more powerful than the program: same seccomp filter, no capabilities, no_new_privs.
def fields(pid):
    keep = ('Seccomp:', 'CapEff:', 'CapPrm:', 'NoNewPrivs:')
    return {l.split(':')[0]: l.split(':')[1].strip() for l in open('/proc/%s/status' % pid) if l.startswith(keep)}
init, me = fields(1), fields('self')
assert init['Seccomp'] == '2' and init['NoNewPrivs'] == '1', init
assert int(init['CapEff'], 16) == 0 and int(init['CapPrm'], 16) == 0, init
assert me == init, (me, init)
