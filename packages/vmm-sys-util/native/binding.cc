// Thin syscall layer for tsvmm. Every function here does one system call (or a
// fixed, tiny sequence of them) and reports failure as a negative errno in its
// return value; argument checking, error objects and all policy live in
// TypeScript (src/native.ts is the typed seam).
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

namespace {

inline Napi::Number Neg(Napi::Env env) { return Napi::Number::New(env, -errno); }

uint64_t U64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = false;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

// Pointer and length of an ArrayBuffer or a view on one.
void* DataOf(const Napi::Value& v, size_t* len) {
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    *len = ab.ByteLength();
    return ab.Data();
  }
  auto view = v.As<Napi::TypedArray>();
  if (v.IsDataView()) {
    auto dv = v.As<Napi::DataView>();
    *len = dv.ByteLength();
    return static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
  }
  *len = view.ByteLength();
  return static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), info[1].As<Napi::Number>().Int32Value() | O_CLOEXEC);
  return fd < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int r = close(info[0].As<Napi::Number>().Int32Value());
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

// ioctl(fd, request, integer argument)
Napi::Value Ioctl(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned long req = info[1].As<Napi::Number>().Uint32Value();
  unsigned long arg = info.Length() > 2 ? static_cast<unsigned long>(U64(info[2])) : 0;
  int r = ioctl(fd, req, arg);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), r);
}

// ioctl(fd, request, pointer to the bytes of a buffer)
Napi::Value IoctlBuffer(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned long req = info[1].As<Napi::Number>().Uint32Value();
  size_t len = 0;
  void* p = DataOf(info[2], &len);
  int r = ioctl(fd, req, p);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), r);
}

// Live mappings made by Mmap, so that a mapping is released exactly once:
// by an explicit Munmap or by the buffer's finalizer, whichever comes first.
// Entries are keyed by address but identified by their record: once a
// mapping is released, the kernel may hand the same address to a new mapping,
// and a late finalizer of the old buffer must not unmap the new one.
struct Mapping {
  void* addr;
  size_t length;
};
std::mutex mappings_mutex;
std::unordered_map<void*, Mapping*> mappings;

// Removes `m` from the live set if it is still there; true if it was.
bool Forget(Mapping* m) {
  std::lock_guard<std::mutex> lock(mappings_mutex);
  auto it = mappings.find(m->addr);
  if (it == mappings.end() || it->second != m) return false;
  mappings.erase(it);
  return true;
}

void Unmap(Napi::Env, void* addr, Mapping* m) {
  if (Forget(m)) munmap(addr, m->length);
  delete m;
}

// mmap(NULL, length, prot, flags, fd, offset) as an ArrayBuffer that owns the
// mapping: it is unmapped when the buffer is collected or passed to munmap().
Napi::Value Mmap(const Napi::CallbackInfo& info) {
  size_t length = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  int prot = info[1].As<Napi::Number>().Int32Value();
  int flags = info[2].As<Napi::Number>().Int32Value();
  int fd = info[3].As<Napi::Number>().Int32Value();
  off_t offset = static_cast<off_t>(U64(info[4]));
  void* p = mmap(nullptr, length, prot, flags, fd, offset);
  if (p == MAP_FAILED) return Neg(info.Env());
  auto* m = new Mapping{p, length};
  {
    std::lock_guard<std::mutex> lock(mappings_mutex);
    mappings[p] = m;
  }
  return Napi::ArrayBuffer::New(info.Env(), p, length, Unmap, m);
}

// Unmaps an ArrayBuffer made by Mmap now and detaches it, so that JavaScript
// sees a zero-length buffer instead of touching unmapped memory.
Napi::Value Munmap(const Napi::CallbackInfo& info) {
  auto ab = info[0].As<Napi::ArrayBuffer>();
  void* p = ab.Data();
  size_t len = ab.ByteLength();
  if (p == nullptr || len == 0) return Napi::Number::New(info.Env(), 0);
  {
    // Only a live mapping made by Mmap, of exactly this buffer's extent. The
    // record stays allocated: the buffer's finalizer frees it later.
    std::lock_guard<std::mutex> lock(mappings_mutex);
    auto it = mappings.find(p);
    if (it == mappings.end() || it->second->length != len) return Napi::Number::New(info.Env(), -EINVAL);
    mappings.erase(it);
  }
  ab.Detach();
  int r = munmap(p, len);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

Napi::Value Madvise(const Napi::CallbackInfo& info) {
  size_t len = 0;
  void* p = DataOf(info[0], &len);
  int r = madvise(p, len, info[1].As<Napi::Number>().Int32Value());
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

Napi::Value AddressOf(const Napi::CallbackInfo& info) {
  size_t len = 0;
  void* p = DataOf(info[0], &len);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

// An ArrayBuffer over memory that some other owner mapped (another thread's
// mapping, seen from a worker). It never unmaps: the owner's lifetime rules.
Napi::Value View(const Napi::CallbackInfo& info) {
  void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(U64(info[0])));
  size_t length = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  return Napi::ArrayBuffer::New(info.Env(), p, length);
}

Napi::Value EventFd(const Napi::CallbackInfo& info) {
  int fd = eventfd(info[0].As<Napi::Number>().Uint32Value(),
                   info[1].As<Napi::Number>().Int32Value() | EFD_CLOEXEC);
  return fd < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), fd);
}

// Reads an eventfd counter. Returns the value as a BigInt, or -errno.
Napi::Value EventFdRead(const Napi::CallbackInfo& info) {
  uint64_t v = 0;
  ssize_t r = read(info[0].As<Napi::Number>().Int32Value(), &v, sizeof v);
  if (r < 0) return Neg(info.Env());
  return Napi::BigInt::New(info.Env(), v);
}

Napi::Value EventFdWrite(const Napi::CallbackInfo& info) {
  uint64_t v = U64(info[1]);
  ssize_t r = write(info[0].As<Napi::Number>().Int32Value(), &v, sizeof v);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), fd);
}

// epoll_ctl(epfd, op, fd, { events, data.u64 = key })
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = info[3].As<Napi::Number>().Uint32Value();
  ev.data.u64 = info[4].As<Napi::Number>().Uint32Value();
  int r = epoll_ctl(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                    info[2].As<Napi::Number>().Int32Value(), &ev);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

// epoll_wait into a Uint32Array of [events, key] pairs; returns the count.
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  int epfd = info[0].As<Napi::Number>().Int32Value();
  auto out = info[1].As<Napi::Uint32Array>();
  int timeout = info[2].As<Napi::Number>().Int32Value();
  int max = static_cast<int>(out.ElementLength() / 2);
  if (max > 64) max = 64;
  struct epoll_event evs[64];
  int n = epoll_wait(epfd, evs, max, timeout);
  if (n < 0) return Neg(info.Env());
  for (int i = 0; i < n; i++) {
    out[2 * i] = evs[i].events;
    out[2 * i + 1] = static_cast<uint32_t>(evs[i].data.u64);
  }
  return Napi::Number::New(info.Env(), n);
}

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  int fd = static_cast<int>(syscall(SYS_memfd_create, name.c_str(),
                                    info[1].As<Napi::Number>().Uint32Value() | 1u /* MFD_CLOEXEC */));
  return fd < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), fd);
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int r = ftruncate(info[0].As<Napi::Number>().Int32Value(), static_cast<off_t>(U64(info[1])));
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

// --- Thread kicks: how a blocked KVM_RUN (or any blocking call) on another
// thread is interrupted. The handler does nothing; its only effect is that the
// blocked system call returns EINTR because SA_RESTART is not set.
void NoopHandler(int) {}

Napi::Value InstallKickHandler(const Napi::CallbackInfo& info) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = NoopHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  int r = sigaction(info[0].As<Napi::Number>().Int32Value(), &sa, nullptr);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), 0);
}

Napi::Value SigRtMin(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), SIGRTMIN); }

Napi::Value ThreadSelf(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(pthread_self()));
}

Napi::Value ThreadKill(const Napi::CallbackInfo& info) {
  int r = pthread_kill(static_cast<pthread_t>(U64(info[0])), info[1].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), r == 0 ? 0 : -r);
}

Napi::Value Gettid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// write(fd, bytes of a buffer) once: the count written, or -errno. Unlike
// fs.writeSync (libuv retries EINTR), a signal interrupts it, so a thread
// blocked writing to a full pipe can be kicked.
Napi::Value Write(const Napi::CallbackInfo& info) {
  size_t len = 0;
  void* p = DataOf(info[1], &len);
  ssize_t r = write(info[0].As<Napi::Number>().Int32Value(), p, len);
  return r < 0 ? Neg(info.Env()) : Napi::Number::New(info.Env(), static_cast<double>(r));
}

// pipe2(O_CLOEXEC | flags) → [read end, write end], or -errno.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | info[0].As<Napi::Number>().Int32Value()) < 0) return Neg(info.Env());
  auto out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

Napi::Value PageSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sysconf(_SC_PAGESIZE)));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["open"] = Napi::Function::New(env, Open, "open");
  exports["close"] = Napi::Function::New(env, Close, "close");
  exports["ioctl"] = Napi::Function::New(env, Ioctl, "ioctl");
  exports["ioctlBuffer"] = Napi::Function::New(env, IoctlBuffer, "ioctlBuffer");
  exports["mmap"] = Napi::Function::New(env, Mmap, "mmap");
  exports["munmap"] = Napi::Function::New(env, Munmap, "munmap");
  exports["madvise"] = Napi::Function::New(env, Madvise, "madvise");
  exports["addressOf"] = Napi::Function::New(env, AddressOf, "addressOf");
  exports["view"] = Napi::Function::New(env, View, "view");
  exports["eventfd"] = Napi::Function::New(env, EventFd, "eventfd");
  exports["eventfdRead"] = Napi::Function::New(env, EventFdRead, "eventfdRead");
  exports["eventfdWrite"] = Napi::Function::New(env, EventFdWrite, "eventfdWrite");
  exports["epollCreate"] = Napi::Function::New(env, EpollCreate, "epollCreate");
  exports["epollCtl"] = Napi::Function::New(env, EpollCtl, "epollCtl");
  exports["epollWait"] = Napi::Function::New(env, EpollWait, "epollWait");
  exports["memfdCreate"] = Napi::Function::New(env, MemfdCreate, "memfdCreate");
  exports["ftruncate"] = Napi::Function::New(env, Ftruncate, "ftruncate");
  exports["installKickHandler"] = Napi::Function::New(env, InstallKickHandler, "installKickHandler");
  exports["sigrtmin"] = Napi::Function::New(env, SigRtMin, "sigrtmin");
  exports["threadSelf"] = Napi::Function::New(env, ThreadSelf, "threadSelf");
  exports["threadKill"] = Napi::Function::New(env, ThreadKill, "threadKill");
  exports["gettid"] = Napi::Function::New(env, Gettid, "gettid");
  exports["pipe"] = Napi::Function::New(env, Pipe, "pipe");
  exports["write"] = Napi::Function::New(env, Write, "write");
  exports["pageSize"] = Napi::Function::New(env, PageSize, "pageSize");
  return exports;
}

}  // namespace

NODE_API_MODULE(vmm_sys_util, Init)
