/*
 * The C baseline: the smallest VMM that runs the test guest. It loads the
 * guest's ELF, enters it by PVH like the reference VMM does, and answers its
 * exits with nothing but what the guest needs (the UART's transmit register
 * and line status, the i8042 reset), so that the guest's exit loops measure
 * KVM_RUN and nothing else. The benchmark compares the reference VMM's exit
 * round trips with this program's, measured by the same guest with the same
 * clock.
 *
 *   c-vmm <guest.elf> <command line> <memory MiB>
 *
 * Exit status: 3 when the guest reset through the i8042 (its "done"),
 * 5 on a triple fault, 1 on anything else.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define START_INFO 0x6000
#define MEMMAP (START_INFO + 0x100)
#define CMDLINE 0x7000
#define CMDLINE_MAX 0x1000
#define LOW_RAM_END 0x9fc00
#define HIGH_RAM 0x100000
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define COM1 0x3f8

static void die(const char *what) {
  fprintf(stderr, "c-vmm: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *what) {
  fprintf(stderr, "c-vmm: %s\n", what);
  exit(1);
}

/* Copies the PT_LOAD segments to their physical addresses; returns the PVH entry from the note. */
static uint32_t load_elf(const char *path, uint8_t *ram, uint64_t ram_size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) die(path);
  uint8_t *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (file == MAP_FAILED) die("mmap kernel");
  close(fd);
  const Elf64_Ehdr *eh = (const void *)file;
  if ((size_t)st.st_size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_machine != EM_X86_64)
    fail("not an x86-64 ELF");
  uint32_t entry = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    const Elf64_Phdr *ph = (const void *)(file + eh->e_phoff + (size_t)i * eh->e_phentsize);
    if (ph->p_offset + ph->p_filesz > (uint64_t)st.st_size) fail("segment outside the file");
    if (ph->p_type == PT_LOAD) {
      if (ph->p_paddr + ph->p_memsz > ram_size || ph->p_filesz > ph->p_memsz) fail("segment outside RAM");
      memcpy(ram + ph->p_paddr, file + ph->p_offset, ph->p_filesz);
      memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
    } else if (ph->p_type == PT_NOTE) {
      for (uint64_t at = 0; at + sizeof(Elf64_Nhdr) <= ph->p_filesz;) {
        const Elf64_Nhdr *n = (const void *)(file + ph->p_offset + at);
        const char *name = (const char *)(n + 1);
        const uint8_t *desc = (const uint8_t *)name + ((n->n_namesz + 3) & ~3u);
        if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 && memcmp(name, "Xen", 4) == 0)
          memcpy(&entry, desc, 4);
        at += sizeof *n + ((n->n_namesz + 3) & ~3u) + ((n->n_descsz + 3) & ~3u);
      }
    }
  }
  munmap(file, (size_t)st.st_size);
  if (!entry) fail("no PVH note");
  return entry;
}

/* struct hvm_start_info (version 1) with the command line and a two-entry memory map. */
static void write_start_info(uint8_t *ram, uint64_t ram_size, const char *cmdline) {
  if (strlen(cmdline) >= CMDLINE_MAX) fail("command line too long");
  strcpy((char *)ram + CMDLINE, cmdline);
  uint32_t *si = (uint32_t *)(ram + START_INFO);
  si[0] = 0x336ec578;                 /* magic */
  si[1] = 1;                          /* version */
  *(uint64_t *)(si + 6) = CMDLINE;    /* cmdline_paddr */
  *(uint64_t *)(si + 10) = MEMMAP;    /* memmap_paddr */
  si[12] = 2;                         /* memmap_entries */
  uint64_t *map = (uint64_t *)(ram + MEMMAP);
  map[0] = 0, map[1] = LOW_RAM_END, map[2] = 1;
  map[3] = HIGH_RAM, map[4] = ram_size - HIGH_RAM, map[5] = 1;
}

static struct kvm_segment flat(uint16_t selector, uint8_t type) {
  return (struct kvm_segment){
      .base = 0, .limit = 0xffffffff, .selector = selector, .type = type, .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1};
}

/* The PVH entry state: 32-bit protected mode, flat segments, paging off, %ebx = start info. */
static void setup_vcpu(int kvm, int vcpu, uint32_t entry) {
  struct {
    struct kvm_cpuid2 header;
    struct kvm_cpuid_entry2 entries[256];
  } cpuid = {.header.nent = 256};
  if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
  if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0) die("KVM_SET_CPUID2");
  struct kvm_sregs sregs;
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
  sregs.cs = flat(0x10, 0xb);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat(0x18, 0x3);
  sregs.tr = (struct kvm_segment){.limit = 0x67, .type = 0xb, .present = 1};
  sregs.cr0 = 0x11; /* PE, ET */
  sregs.cr4 = 0;
  sregs.efer = 0;
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = entry, .rbx = START_INFO, .rflags = 0x2};
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: c-vmm <guest.elf> <command line> <memory MiB>\n");
    return 2;
  }
  uint64_t ram_size = strtoull(argv[3], NULL, 10) << 20;
  if (ram_size < (16 << 20) || ram_size > (3ULL << 30)) fail("memory must be 16 to 3072 MiB");

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0) die("KVM_SET_TSS_ADDR");
  uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) die("mmap RAM");
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uint64_t)(uintptr_t)ram};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");

  uint32_t entry = load_elf(argv[1], ram, ram_size);
  write_start_info(ram, ram_size, argv[2]);

  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  setup_vcpu(kvm, vcpu, entry);

  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("KVM_RUN");
    }
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
          uint16_t port = run->io.port;
          if (run->io.direction == KVM_EXIT_IO_OUT) {
            if (port == COM1) fputc(data[0], stdout);
            else if (port == 0x64 && data[0] == 0xfe) {
              fflush(stdout);
              return 3;
            }
          } else {
            /* The line status register says "transmitter empty"; every other port floats high. */
            memset(data, port == COM1 + 5 ? 0x60 : 0xff, run->io.size);
          }
        }
        break;
      }
      case KVM_EXIT_MMIO:
        if (!run->mmio.is_write) memset(run->mmio.data, 0xff, run->mmio.len);
        break;
      case KVM_EXIT_SHUTDOWN:
        fflush(stdout);
        return 5;
      default:
        fflush(stdout);
        fprintf(stderr, "c-vmm: unexpected exit %u\n", run->exit_reason);
        return 1;
    }
  }
}
