/*
 * The C baseline of the port-I/O exit benchmark: runs the guest that
 * pio-exit.ts prepared (RAM image, special and general registers, written by
 * the TypeScript side so that both run exactly the same guest) and times the
 * KVM_RUN round trip of `warmup + count` port-I/O exits, the last `count` of
 * them. Prints the nanoseconds per exit.
 *
 *   pio-exit <guest dir> <warmup> <count>
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
  fprintf(stderr, "pio-exit: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Reads all of dir/name into a new buffer. */
static void* slurp(const char* dir, const char* name, size_t* size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "rb");
  if (!f) die(path);
  if (fseek(f, 0, SEEK_END) != 0) die(path);
  long n = ftell(f);
  rewind(f);
  void* buf = malloc((size_t)n);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die(path);
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: pio-exit <guest dir> <warmup> <count>\n");
    return 2;
  }
  const char* dir = argv[1];
  long warmup = atol(argv[2]);
  long count = atol(argv[3]);

  size_t ram_size, sregs_size, regs_size;
  void* image = slurp(dir, "ram.bin", &ram_size);
  struct kvm_sregs* sregs = slurp(dir, "sregs.bin", &sregs_size);
  struct kvm_regs* regs = slurp(dir, "regs.bin", &regs_size);
  if (sregs_size != sizeof *sregs || regs_size != sizeof *regs) {
    fprintf(stderr, "pio-exit: register files do not match this kernel's structs\n");
    return 1;
  }

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  void* ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ram == MAP_FAILED) die("mmap ram");
  memcpy(ram, image, ram_size);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uint64_t)(uintptr_t)ram};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run* run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  if (ioctl(vcpu, KVM_SET_SREGS, sregs) < 0) die("KVM_SET_SREGS");
  if (ioctl(vcpu, KVM_SET_REGS, regs) < 0) die("KVM_SET_REGS");

  double start = 0;
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) start = now_ns();
    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x80 || run->io.direction != KVM_EXIT_IO_OUT) {
      fprintf(stderr, "pio-exit: unexpected exit %u\n", run->exit_reason);
      return 1;
    }
  }
  printf("%.1f\n", (now_ns() - start) / (double)count);
  return 0;
}
