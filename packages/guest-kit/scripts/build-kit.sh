#!/usr/bin/env bash
# The guest kit's build recipe, one phase per call:
#
#   build-kit.sh kernel-source | kernel-config | kernel-build | initramfs | rootfs | debian-kernel
#
# It is driven by src/build.ts (`pnpm guest:build`, `ensureGuestKit()`), which
# fetches the Debian packages, runs the phases in order with their output in a
# log file, checks the kernel config between kernel-config and kernel-build, and
# writes the manifest. Its contents are part of the kit's input hash.
#
# Environment (all required):
#   KIT_WORK       scratch directory (kernel tree, staging folders)
#   KIT_OUT        output directory (vmlinux, bzImage, initramfs.cpio, rootfs.ext4, ...)
#   KIT_SRC_DEB    the linux-source-6.1 .deb
#   KIT_IMAGE_DEB  the linux-image-*-amd64 .deb (Debian's stock kernel)
#   KIT_PATCHES    directory of *.patch files, applied in name order with patch -p1
#   KIT_CONFIG     config fragment merged on top of tinyconfig
#   KIT_INIT       the guest's init script
#   KIT_JOBS       make -j
set -euo pipefail

: "${KIT_WORK:?}" "${KIT_OUT:?}" "${KIT_SRC_DEB:?}" "${KIT_IMAGE_DEB:?}" "${KIT_PATCHES:?}"
: "${KIT_CONFIG:?}" "${KIT_INIT:?}" "${KIT_JOBS:?}"

# Reproducible builds: no time, user or host name of this machine in the outputs.
export SOURCE_DATE_EPOCH=0 KBUILD_BUILD_TIMESTAMP='1970-01-01 00:00:00 UTC'
export KBUILD_BUILD_USER=tsvmm KBUILD_BUILD_HOST=guest-kit KBUILD_BUILD_VERSION=1
export LC_ALL=C TZ=UTC

src=$KIT_WORK/linux
kmake() { make -C "$src" ARCH=x86_64 -j"$KIT_JOBS" "$@"; }

# The source package holds one tarball, /usr/src/linux-source-<ver>.tar.xz.
kernel_source() {
  rm -rf "$src" "$KIT_WORK/src-deb"
  mkdir -p "$KIT_WORK/src-deb" "$src"
  dpkg-deb --fsys-tarfile "$KIT_SRC_DEB" | tar -x -C "$KIT_WORK/src-deb" --wildcards './usr/src/linux-source-*.tar.xz'
  local tarballs=("$KIT_WORK"/src-deb/usr/src/linux-source-*.tar.xz)
  [ ${#tarballs[@]} -eq 1 ] || { echo "expected one kernel tarball in $KIT_SRC_DEB, found ${#tarballs[@]}" >&2; exit 1; }
  tar -xJf "${tarballs[0]}" -C "$src" --strip-components=1
  rm -rf "$KIT_WORK/src-deb"
  local p
  for p in "$KIT_PATCHES"/*.patch; do
    echo "applying $(basename "$p")"
    patch -d "$src" -p1 --forward --no-backup-if-mismatch < "$p"
  done
}

kernel_config() {
  kmake tinyconfig
  (cd "$src" && ./scripts/kconfig/merge_config.sh -m .config "$KIT_CONFIG")
  kmake olddefconfig
  cp "$src/.config" "$KIT_OUT/kernel.config"
}

kernel_build() {
  kmake vmlinux bzImage
  cp "$src/vmlinux" "$KIT_OUT/vmlinux"
  cp "$src/arch/x86/boot/bzImage" "$KIT_OUT/bzImage"
  cp "$src/System.map" "$KIT_OUT/System.map"
}

# Lays out a minimal busybox root in $1: the init, busybox, /bin/sh and the
# mount points. Every timestamp is 0 so the images are reproducible.
stage_root() {
  local root=$1 init_path=$2
  rm -rf "$root"
  mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,etc} "$(dirname "$root$init_path")"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  install -m 0755 "$KIT_INIT" "$root$init_path"
  find "$root" -exec touch -h -d @0 {} +
}

# An uncompressed newc cpio written by the kernel's own gen_init_cpio: it needs
# no root for the /dev/console node and gives fixed inode numbers and times.
initramfs() {
  cc -O2 -o "$KIT_WORK/gen_init_cpio" "$src/usr/gen_init_cpio.c"
  local root=$KIT_WORK/initramfs-root
  stage_root "$root" /init
  {
    echo "dir /bin 0755 0 0"
    echo "dir /dev 0755 0 0"
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "dir /etc 0755 0 0"
    echo "dir /proc 0755 0 0"
    echo "dir /root 0700 0 0"
    echo "dir /sys 0755 0 0"
    echo "dir /tmp 1777 0 0"
    echo "file /bin/busybox $root/bin/busybox 0755 0 0"
    echo "slink /bin/sh busybox 0777 0 0"
    echo "file /init $root/init 0755 0 0"
  } > "$KIT_WORK/initramfs.list"
  "$KIT_WORK/gen_init_cpio" -t 0 "$KIT_WORK/initramfs.list" > "$KIT_OUT/initramfs.cpio"
}

# A 32 MiB ext4 image of the same root, /sbin/init being the kit's init. For a
# reproducible image the UUID and hash seed are fixed, the inode tables and
# journal are zeroed rather than discarded (whether a discard zeroes depends on
# the host, and the group descriptors record it), faketime pins the clock that
# mke2fs 1.47.0 writes into the superblock and new inodes (it ignores
# SOURCE_DATE_EPOCH), and debugfs resets the ctimes mke2fs copies from the
# staged files (which touch cannot set).
rootfs() {
  local root=$KIT_WORK/rootfs-root image=$KIT_OUT/rootfs.ext4
  stage_root "$root" /sbin/init
  local uuid=7473766d-6d00-4000-8000-6775657374fe
  rm -f "$image"
  faketime -f '1970-01-01 00:00:00' mkfs.ext4 -q -F -L tsvmm-root -U "$uuid" \
    -E "root_owner=0:0,hash_seed=$uuid,nodiscard,lazy_itable_init=0,lazy_journal_init=0" \
    -d "$root" "$image" 32M
  (cd "$root" && find . -mindepth 1 | sort | sed 's|^\.\(.*\)$|set_inode_field "\1" ctime @0|') \
    > "$KIT_WORK/rootfs-ctimes.debugfs"
  faketime -f '1970-01-01 00:00:00' debugfs -w -f "$KIT_WORK/rootfs-ctimes.debugfs" "$image"
}

# Debian's stock kernel: /boot/vmlinuz-* of the linux-image package.
debian_kernel() {
  local dir=$KIT_WORK/image-deb
  rm -rf "$dir"
  dpkg-deb -x "$KIT_IMAGE_DEB" "$dir"
  local images=("$dir"/boot/vmlinuz-*)
  [ ${#images[@]} -eq 1 ] || { echo "expected one /boot/vmlinuz-* in $KIT_IMAGE_DEB, found ${#images[@]}" >&2; exit 1; }
  cp "${images[0]}" "$KIT_OUT/debian-bzImage"
  rm -rf "$dir"
}

case "${1:-}" in
  kernel-source) kernel_source ;;
  kernel-config) kernel_config ;;
  kernel-build) kernel_build ;;
  initramfs) initramfs ;;
  rootfs) rootfs ;;
  debian-kernel) debian_kernel ;;
  *) echo "usage: build-kit.sh kernel-source|kernel-config|kernel-build|initramfs|rootfs|debian-kernel" >&2; exit 2 ;;
esac
