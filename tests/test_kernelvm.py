"""The kernel runner's pure parts (tests/support/kernelvm.py): no qemu, no network, no apt."""

import lzma
import os
import subprocess
from pathlib import Path

import pytest

from tests.support import kernelvm
from tests.support.kernelvm import Apt, Kernel, KernelError

# The image packages the private lists held on 2026-11-29, plus flavours that must be ignored.
PACKAGES = [
    "linux-image-5.10.0-43-amd64", "linux-image-5.10.0-46-amd64", "linux-image-5.10.0-45-amd64",
    "linux-image-6.1.0-0.deb11.52-amd64", "linux-image-6.1.0-50-amd64", "linux-image-6.1.0-47-amd64",
    "linux-image-6.12.107+deb13-amd64", "linux-image-6.12.117+deb13-amd64", "linux-image-7.2.13+deb14-amd64",
    "linux-image-6.1.0-50-cloud-amd64", "linux-image-6.1.0-50-rt-amd64", "linux-image-6.12.117+deb13-amd64-dbg",
    "linux-image-amd64", "linux-image-6.1-amd64", "linux-image-7.3.1+deb14-cloud-amd64",
]  # fmt: skip


def test_series_only_for_the_plain_amd64_flavour():
    assert kernelvm.series("linux-image-5.10.0-46-amd64") == "5.10"
    assert kernelvm.series("linux-image-6.12.117+deb13-amd64") == "6.12"
    assert kernelvm.series("linux-image-6.1.0-0.deb11.52-amd64") == "6.1"
    for other in ("linux-image-6.1.0-50-cloud-amd64", "linux-image-6.1.0-50-rt-amd64", "linux-image-amd64",
                  "linux-image-6.12.117+deb13-amd64-dbg", "linux-image-6.1-amd64"):  # fmt: skip
        assert kernelvm.series(other) is None, other


def test_resolve_picks_the_newest_of_each_series():
    chosen = kernelvm.resolve(["5.10", "6.1", "6.12", "newest"], PACKAGES)
    assert chosen == {
        "5.10": "linux-image-5.10.0-46-amd64",  # not 5.10.0-45 (string order would say 45 < 46 too, but 9 > 46)
        "6.1": "linux-image-6.1.0-50-amd64",  # the ABI 50 beats the bullseye backport 0.deb11.52
        "6.12": "linux-image-6.12.117+deb13-amd64",
        "newest": "linux-image-7.2.13+deb14-amd64",  # the cloud flavour's 7.3 does not count
    }


def test_resolve_takes_numbers_not_strings():
    assert kernelvm.resolve(["5.10"], ["linux-image-5.10.0-9-amd64", "linux-image-5.10.0-10-amd64"]) == {
        "5.10": "linux-image-5.10.0-10-amd64"
    }


def test_resolve_takes_an_exact_release_or_package():
    assert kernelvm.resolve(["5.10.0-43-amd64"], PACKAGES) == {"5.10.0-43-amd64": "linux-image-5.10.0-43-amd64"}
    assert kernelvm.resolve(["linux-image-6.1.0-47-amd64"], PACKAGES)["linux-image-6.1.0-47-amd64"].endswith("47-amd64")


def test_resolve_unknown_names_what_there_is():
    with pytest.raises(KernelError, match=r"no Debian amd64 kernel '4.19' .*there are: 5.10, 6.1, 6.12, 7.2\)"):
        kernelvm.resolve(["4.19"], PACKAGES)
    with pytest.raises(KernelError, match="no amd64 linux-image packages"):
        kernelvm.resolve(["5.10"], ["linux-image-amd64"])


def test_release_is_what_uname_says():
    assert kernelvm.release("linux-image-6.12.117+deb13-amd64") == "6.12.117+deb13-amd64"


@pytest.mark.tool("apt-config")
def test_private_apt_configuration_points_only_inside_its_root(tmp_path):
    apt = Apt(tmp_path / "apt")
    conf = (tmp_path / "apt" / "apt.conf").read_text()
    paths = [line.split('"')[1] for line in conf.splitlines() if line.startswith("Dir::")]
    assert len(paths) == 8 and all(p.startswith(str(tmp_path / "apt")) for p in paths)
    assert apt.env["APT_CONFIG"] == str(tmp_path / "apt" / "apt.conf")
    sources = (tmp_path / "apt" / "sources.list").read_text().splitlines()
    assert [s.split()[-2] for s in sources] == ["bullseye-security", "bookworm", "trixie", "sid"]
    assert all("signed-by=/usr/share/keyrings/debian-archive-keyring.gpg" in s for s in sources)
    # apt itself reads it so (keys are case-blind; dump spells them its way): these, not the system's.
    dump = subprocess.run(["apt-config", "dump"], env=apt.env, capture_output=True, text=True, check=True).stdout
    assert f'Dir::Etc::sourcelist "{tmp_path}/apt/sources.list";' in dump
    assert f'Dir::State::lists "{tmp_path}/apt/lists";' in dump


def test_split_images_bring_their_binary_and_modules():
    depends = ("dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, "
               "linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), linux-binary-7.2.13+deb14-amd64 (= 7.2.13-1), "
               "linux-modules-7.2.13+deb14-amd64 (= 7.2.13-1)")  # fmt: skip
    assert kernelvm.same_abi_depends(depends, "7.2.13+deb14-amd64") == [
        "linux-base-7.2.13+deb14-amd64",  # modules.builtin: virtio_pci is built in there
        "linux-binary-7.2.13+deb14-amd64",
        "linux-modules-7.2.13+deb14-amd64",
    ]
    assert kernelvm.same_abi_depends("kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool", "x") == []


def _module(tmp_path: Path, rel: str, depends: str, xz: bool = False) -> Path:
    data = b"\x7fELF...\0license=GPL\0depends=" + depends.encode() + b"\0intree=Y\0name=" + rel.encode() + b"\0"
    path = tmp_path / (rel + (".ko.xz" if xz else ".ko"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(data) if xz else data)
    return path


def test_modules_load_after_their_dependencies(tmp_path):
    _module(tmp_path, "net/9p/9pnet_virtio", "9pnet,virtio,virtio_ring", xz=True)
    _module(tmp_path, "net/9p/9pnet", "netfs")
    _module(tmp_path, "fs/netfs/netfs", "")
    _module(tmp_path, "fs/9p/9p", "9pnet,netfs", xz=True)
    _module(tmp_path, "drivers/net/dummy", "")
    index = kernelvm.module_index(tmp_path)

    def deps(name):
        return [d for d in kernelvm.modinfo(kernelvm.read_module(index[name]))["depends"].split(",") if d]

    # virtio and virtio_ring are built in: not in the index, so left out.
    assert kernelvm.load_order(["9pnet_virtio", "9p", "dummy"], index, deps) == [
        "netfs", "9pnet", "9pnet_virtio", "9p", "dummy",
    ]  # fmt: skip


def test_module_cycles_are_an_error():
    index = {"a": Path("a.ko"), "b": Path("b.ko")}
    with pytest.raises(KernelError, match="a -> b -> a"):
        kernelvm.load_order(["a"], index, {"a": ["b"], "b": ["a"]}.get)


def test_zstd_modules_are_refused_by_name(tmp_path):
    with pytest.raises(KernelError, match=r"cannot read x\.ko\.zst"):
        kernelvm.read_module(tmp_path / "x.ko.zst")


@pytest.mark.tool("busybox")
def test_newc_archive_is_what_cpio_reads(tmp_path):
    data = kernelvm.newc(
        [("bin", 0o040755, b""), ("bin/hello", 0o100755, b"#!/bin/sh\necho hi\n"), ("odd", 0o100644, b"x")]
    )
    assert len(data) % 4 == 0
    assert data.startswith(b"070701") and b"TRAILER!!!\0" in data
    cpio = subprocess.run(["busybox", "cpio", "-t", "-v"], input=data, capture_output=True)
    listing = cpio.stdout.decode().splitlines()
    assert [line.split()[-1] for line in listing] == ["bin", "bin/hello", "odd"]
    assert listing[1].startswith("-rwxr-xr-x") and " 18 " in listing[1]


def test_qemu_command_line():
    argv = kernelvm.qemu_argv(Path("/k/vmlinuz"), Path("/c/x.cpio"), Path("/j"), cpus=2)
    assert argv[:3] == ["nice", "-n", "15"]
    assert argv[argv.index("-accel") + 1] == "tcg,thread=multi" and argv[argv.index("-smp") + 1] == "2"
    append = argv[argv.index("-append") + 1].split()
    assert "mitigations=off" in append and "console=ttyS0" in append and "panic=-1" in append
    shares = [argv[i + 1] for i, a in enumerate(argv) if a == "-virtfs"]
    assert shares[0].endswith("path=/,mount_tag=hostroot,readonly=on")
    assert shares[1].endswith("path=/j,mount_tag=job") and "readonly" not in shares[1]
    assert "-no-reboot" in argv  # a panic ends qemu instead of booting again
    assert kernelvm.qemu_argv(Path("k"), Path("c"), Path("j"), nice=0)[0] == "qemu-system-x86_64"


def test_result_trusted_only_from_the_claimed_kernel(tmp_path):
    assert kernelvm.job_result(tmp_path, "5.10.0-46-amd64") == (
        "", None, "the guest never reached the command (see the console log)",
    )  # fmt: skip
    (tmp_path / "uname").write_text("6.18.44-fc-v657\n")
    (tmp_path / "status").write_text("0\n")
    assert kernelvm.job_result(tmp_path, "5.10.0-46-amd64")[2] == (
        "the guest ran 6.18.44-fc-v657, not 5.10.0-46-amd64: its results are not used"
    )
    (tmp_path / "uname").write_text("5.10.0-46-amd64\n")
    (tmp_path / "machine").write_text("x86_64\n")
    assert kernelvm.job_result(tmp_path, "5.10.0-46-amd64") == ("5.10.0-46-amd64", 0, None)
    (tmp_path / "status").write_text("")
    assert kernelvm.job_result(tmp_path, "5.10.0-46-amd64")[2] == "the command did not finish (no exit status)"


def test_kernel_files_in_either_layout(tmp_path):
    old = Kernel("linux-image-5.10.0-46-amd64", tmp_path / "old")
    (old.tree / "boot").mkdir(parents=True)
    (old.tree / "boot/vmlinuz-5.10.0-46-amd64").touch()
    (old.tree / "lib/modules/5.10.0-46-amd64").mkdir(parents=True)
    assert old.vmlinuz.name == "vmlinuz-5.10.0-46-amd64" and old.modules.parts[-3:-1] == ("lib", "modules")
    new = Kernel("linux-image-7.2.13+deb14-amd64", tmp_path / "new")
    (new.tree / "usr/lib/modules/7.2.13+deb14-amd64").mkdir(parents=True)
    (new.tree / "usr/lib/modules/7.2.13+deb14-amd64/vmlinuz").touch()
    assert new.vmlinuz == new.modules / "vmlinuz"
    with pytest.raises(KernelError, match=r"has no /lib/modules/6\.1\.0-1-amd64"):
        _ = Kernel("linux-image-6.1.0-1-amd64", tmp_path / "none").modules


# ---- other architectures ------------------------------------------------------------------------------

ARM64 = kernelvm.ARCHES["arm64"]


def test_each_architecture_takes_its_own_flavour_only():
    both = [*PACKAGES, "linux-image-6.12.117+deb13-arm64", "linux-image-6.1.0-50-arm64", "linux-image-arm64",
            "linux-image-6.12.117+deb13-arm64-16k", "linux-image-6.1.0-50-cloud-arm64"]  # fmt: skip
    assert kernelvm.series("linux-image-6.12.117+deb13-arm64", "arm64") == "6.12"
    assert kernelvm.series("linux-image-6.12.117+deb13-arm64") is None  # amd64 by default
    assert kernelvm.series("linux-image-6.12.117+deb13-amd64", "arm64") is None
    assert kernelvm.resolve(["6.12", "newest"], both, "arm64") == {
        "6.12": "linux-image-6.12.117+deb13-arm64",
        "newest": "linux-image-6.12.117+deb13-arm64",  # not amd64's 7.2, not the 16k-page flavour
    }
    assert kernelvm.resolve(["6.12.117+deb13-arm64"], both, "arm64") == {
        "6.12.117+deb13-arm64": "linux-image-6.12.117+deb13-arm64"
    }
    assert kernelvm.resolve(["newest"], both)["newest"] == "linux-image-7.2.13+deb14-amd64"
    with pytest.raises(KernelError, match=r"no Debian arm64 kernel '5.10' .*there are: 6.1, 6.12\)"):
        kernelvm.resolve(["5.10"], both, "arm64")


def test_an_unknown_architecture_is_one_line():
    with pytest.raises(KernelError, match=r"^unknown ARCH 'sparc64': one of amd64, arm64, riscv64$"):
        kernelvm.arch("sparc64")
    assert kernelvm.arch("arm64") is ARM64 and not ARM64.native and kernelvm.arch("amd64").native
    with pytest.raises(KernelError, match=r"^ARCH=riscv64 is not supported: .*python 3\.13, not the venv's 3\.11"):
        kernelvm.arch("riscv64")


@pytest.mark.tool("apt-config")
def test_private_apt_configuration_for_another_architecture(tmp_path):
    apt = Apt(tmp_path / "apt", "arm64")
    assert apt.arch == "arm64"
    dump = subprocess.run(["apt-config", "dump"], env=apt.env, capture_output=True, text=True, check=True).stdout
    assert 'APT::Architecture "arm64";' in dump
    assert 'APT::Architectures:: "arm64";' in dump and 'APT::Architectures:: "amd64";' not in dump
    assert 'APT::Architecture "amd64";' in kernelvm.apt_conf(tmp_path)  # the default stays the host's


def test_the_guest_root_holds_what_the_suite_cannot_start_without():
    from tests.support import machine

    packages = kernelvm.userland_packages()
    assert {"python3", "busybox-static", "base-passwd", "bash"} <= set(packages)  # bash: ldd is a bash script
    required = {t.package for t in machine.TOOLS if t.required}
    assert required <= set(packages) and {"iproute2", "procps", "util-linux", "mount", "mawk"} <= required
    assert "strace" not in packages and "bubblewrap" not in packages  # optional: their tests skip by name
    assert packages == sorted(set(packages))


def test_usr_merge_moves_files_and_leaves_links(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/dash").write_text("dash")
    (tmp_path / "lib/aarch64-linux-gnu").mkdir(parents=True)
    (tmp_path / "lib/aarch64-linux-gnu/libc.so.6").write_text("libc")
    (tmp_path / "lib/ld-linux-aarch64.so.1").symlink_to("aarch64-linux-gnu/ld-linux-aarch64.so.1")
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/python3.11").write_text("python")
    (tmp_path / "usr/share/base-passwd").mkdir(parents=True)
    (tmp_path / "usr/share/base-passwd/passwd.master").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (tmp_path / "etc").mkdir()
    kernelvm.finish_userland(tmp_path)
    assert os.readlink(tmp_path / "bin") == "usr/bin" and os.readlink(tmp_path / "lib") == "usr/lib"
    assert (tmp_path / "usr/bin/dash").read_text() == "dash" and (tmp_path / "bin/python3.11").exists()
    assert os.readlink(tmp_path / "usr/lib/ld-linux-aarch64.so.1") == "aarch64-linux-gnu/ld-linux-aarch64.so.1"
    assert (tmp_path / "lib/aarch64-linux-gnu/libc.so.6").read_text() == "libc"
    assert os.readlink(tmp_path / "usr/bin/sh") == "dash"
    assert (tmp_path / "etc/passwd").read_text().startswith("root:x:0:0:")
    assert os.readlink(tmp_path / "etc/mtab") == "../proc/self/mounts"
    assert all((tmp_path / d).is_dir() for d in ("proc", "sys", "dev", "tmp", "job", "mnt"))  # mnt: the mount probe


def test_alternatives_a_maintainer_script_would_make(tmp_path):
    postinst = """if [ "$1" = "configure" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \\
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi
"""
    pairs = kernelvm.alternatives(postinst)
    man = ("/usr/share/man/man1/awk.1.gz", "/usr/share/man/man1/mawk.1.gz")
    assert pairs == [("/usr/bin/awk", "/usr/bin/mawk"), man, ("/usr/bin/nawk", "/usr/bin/mawk")]
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/mawk").write_text("mawk")
    (tmp_path / "usr/bin/nawk").write_text("a real nawk")  # a package's own file is never replaced
    kernelvm.link_alternatives(tmp_path, pairs)
    assert os.readlink(tmp_path / "usr/bin/awk") == "/usr/bin/mawk"
    assert (tmp_path / "usr/bin/nawk").read_text() == "a real nawk"
    assert not (tmp_path / "usr/share/man/man1/awk.1.gz").is_symlink()  # its target is not in the tree


def test_only_packages_with_extension_modules_are_fetched_for_the_guest():
    class Dist:
        def __init__(self, name, version, wheel):
            self.metadata, self.version, self.wheel = {"Name": name}, version, wheel

        def read_text(self, name):
            return self.wheel if name == "WHEEL" else None

    dists = [
        Dist("psutil", "7.2.2", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp36-abi3-manylinux_2_12_x86_64\n"),
        Dist("MarkupSafe", "3.0.4", "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"),
        Dist("ruff", "0.17.6", "Root-Is-Purelib: false\nTag: py3-none-manylinux_2_17_x86_64\n"),  # a program
        Dist("pexpect", "4.9.0", "Root-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n"),
        Dist("nsport", "0.1.0", None),  # the project itself, editable
    ]
    assert kernelvm.compiled(dists) == {"MarkupSafe": "3.0.4", "psutil": "7.2.2"}
    argv = kernelvm.pip_download_argv("/v/bin/python", {"psutil": "7.2.2"}, ARM64, Path("/w"))
    platforms = [argv[i + 1] for i, a in enumerate(argv) if a == "--platform"]
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_36_aarch64" in platforms
    assert all(p.endswith("_aarch64") for p in platforms)
    assert argv[argv.index("--python-version") + 1] == "3.11" and {"cp311", "abi3"} <= set(argv)
    assert "--no-deps" in argv and "--only-binary=:all:" in argv and argv[-1] == "psutil==7.2.2"


def test_qemu_command_line_for_arm64():
    argv = kernelvm.qemu_argv(Path("/k/Image"), Path("/c/x.cpio"), Path("/j"), arch=ARM64, root=Path("/cache/arm64"),
                              project=Path("/work/checkout"), nice=0)  # fmt: skip
    assert argv[0] == "qemu-system-aarch64"
    assert argv[argv.index("-M") + 1] == "virt" and argv[argv.index("-cpu") + 1] == "cortex-a57"
    assert "console=ttyAMA0" in argv[argv.index("-append") + 1].split()
    shares = [argv[i + 1] for i, a in enumerate(argv) if a == "-virtfs"]
    assert shares[0].endswith("path=/cache/arm64,mount_tag=hostroot,readonly=on")
    assert shares[2].endswith("path=/work/checkout,mount_tag=project,readonly=on")
    assert "qemu-system-arm" in kernelvm.needs(ARM64).values() and "busybox" not in kernelvm.needs(ARM64)
    assert kernelvm.needs(kernelvm.ARCHES["amd64"])["busybox"] == "busybox-static"


def test_a_result_from_another_architecture_is_refused(tmp_path):
    (tmp_path / "uname").write_text("6.12.117+deb13-arm64\n")
    (tmp_path / "status").write_text("0\n")
    (tmp_path / "machine").write_text("x86_64\n")
    assert kernelvm.job_result(tmp_path, "6.12.117+deb13-arm64", "aarch64")[2] == (
        "the guest's uname -m is x86_64, not aarch64: its results are not used"
    )
    (tmp_path / "machine").unlink()
    assert "uname -m is unknown, not aarch64" in kernelvm.job_result(tmp_path, "6.12.117+deb13-arm64", "aarch64")[2]
    (tmp_path / "machine").write_text("aarch64\n")
    assert kernelvm.job_result(tmp_path, "6.12.117+deb13-arm64", "aarch64") == ("6.12.117+deb13-arm64", 0, None)


def test_a_gzip_compressed_kernel_is_unpacked_for_qemu(tmp_path):
    import gzip

    kernel = Kernel("linux-image-6.1.0-50-arm64", tmp_path)
    (tmp_path / "boot").mkdir()
    (tmp_path / "lib/modules/6.1.0-50-arm64").mkdir(parents=True)
    (tmp_path / "boot/vmlinuz-6.1.0-50-arm64").write_bytes(gzip.compress(b"MZ an arm64 Image"))
    assert kernel.image.name == "Image-6.1.0-50-arm64" and kernel.image.read_bytes() == b"MZ an arm64 Image"
    plain = Kernel("linux-image-6.12.117+deb13-arm64", tmp_path / "plain")
    (plain.tree / "boot").mkdir(parents=True)
    (plain.tree / "lib/modules/6.12.117+deb13-arm64").mkdir(parents=True)
    (plain.tree / "boot/vmlinuz-6.12.117+deb13-arm64").write_bytes(b"MZ already an Image")
    assert plain.image == plain.vmlinuz


def test_the_guest_python_finds_the_checkout_then_the_wheels_then_the_venv(tmp_path):
    assert kernelvm.site_pth(
        Path("/w/c"), Path("/opt/nsport-wheels"), Path("/w/c/.venv/lib/python3.11/site-packages")
    ) == ("/w/c\n/opt/nsport-wheels\n/w/c/.venv/lib/python3.11/site-packages\n")
    with pytest.raises(KernelError, match="outside the checkout"):
        kernelvm.foreign_guest(ARM64, None, tmp_path, Path("/w/c"), Path("/elsewhere/site-packages"), "python")
    other = Path("/w/c/.venv-python3.13/lib/python3.13/site-packages")
    with pytest.raises(KernelError, match=r"is not Python 3\.11, the arm64 root's"):
        kernelvm.foreign_guest(ARM64, None, tmp_path, Path("/w/c"), other, "python")
