"""port/sysprocattr.py's records: Go's zero values, positional fields in Go's order, and no silent typos.

Go's SysProcAttr{}, Credential{} and SysProcIDMap{} are all zeros, false and nil; a struct literal
names fields that exist, at most once. The port's records hold the same rules (a wrong field is a
TypeError at once, not an attribute nobody reads).
"""

import pytest

from port.sysprocattr import Credential, SysProcAttr, SysProcIDMap


def test_zero_values_are_gos():
    assert {name: getattr(SysProcAttr(), name) for name in SysProcAttr.__annotations__} == {
        "chroot": "", "credential": None, "ptrace": False, "setsid": False, "setpgid": False, "setctty": False,
        "noctty": False, "ctty": 0, "foreground": False, "pgid": 0, "pdeathsig": 0, "cloneflags": 0,
        "unshareflags": 0, "uid_mappings": None, "gid_mappings": None, "gid_mappings_enable_setgroups": False,
        "ambient_caps": (), "use_cgroup_fd": False, "cgroup_fd": 0, "pid_fd": None,
    }  # fmt: skip
    cred = Credential()
    assert (cred.uid, cred.gid, cred.groups, cred.no_set_groups) == (0, 0, None, False)
    assert SysProcIDMap().line() == "0 0 0\n"


def test_positional_fields_follow_gos_order():
    m = SysProcIDMap(1, 1000, 65536)
    assert (m.container_id, m.host_id, m.size) == (1, 1000, 65536)
    assert m.line() == "1 1000 65536\n"
    c = Credential(5, 6)  # fewer than every field: the rest keep their zero values
    assert (c.uid, c.gid, c.groups, c.no_set_groups) == (5, 6, None, False)
    assert SysProcAttr(chroot="/x", setsid=True).setsid is True


@pytest.mark.parametrize(
    "make",
    [lambda: SysProcIDMap(1, 2, 3, 4), lambda: SysProcIDMap(bogus=1), lambda: SysProcIDMap(1, container_id=2),
     lambda: Credential(1, 2, [], False, 5), lambda: SysProcAttr(cloneflag=1)],
)  # fmt: skip
def test_a_field_that_is_not_there_or_given_twice_is_refused(make):
    with pytest.raises(TypeError):
        make()


def test_equality_is_by_type_and_fields():
    assert Credential(1, 2, [3]) == Credential(1, 2, [3])
    assert Credential(1, 2) != Credential(1, 2, [])
    assert Credential() != SysProcIDMap()  # the same (empty) fields, another type
    assert SysProcIDMap(0, 0, 1) != SysProcIDMap(0, 1, 0)
    assert repr(SysProcIDMap(0, 1, 2)) == "SysProcIDMap(container_id=0, host_id=1, size=2)"
