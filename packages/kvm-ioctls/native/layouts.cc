// Sizes and field offsets of the structs in <linux/kvm.h>, taken by the
// compiler at build time, so that a test can hold every TypeScript layout in
// src/ against the kernel headers this machine has. Nothing else lives here.
#include <napi.h>

#include <linux/kvm.h>
#include <stddef.h>

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object sizes = Napi::Object::New(env);
  Napi::Object offsets = Napi::Object::New(env);
#define SIZE(T) sizes[#T] = Napi::Number::New(env, sizeof(struct T))
#define OFFSET(T, F) offsets[#T "." #F] = Napi::Number::New(env, offsetof(struct T, F))
  SIZE(kvm_regs);
  OFFSET(kvm_regs, rip);
#undef SIZE
#undef OFFSET
  exports["sizes"] = sizes;
  exports["offsets"] = offsets;
  return exports;
}

}  // namespace

NODE_API_MODULE(kvm_layouts, Init)
