// Hands the tables of kvm-abi.c (sizes, member offsets and constants of
// <linux/kvm.h>, computed by the C compiler) to JavaScript, so that a test can
// hold every TypeScript layout, ioctl number, capability and constant in src/
// against the kernel headers of the machine that builds the package. The
// package itself never loads this addon.
#include <napi.h>

#include "kvm-abi.h"

namespace {

Napi::Object Table(Napi::Env env, const kvm_table_entry* entries) {
  Napi::Object out = Napi::Object::New(env);
  for (const kvm_table_entry* e = entries; e->name != nullptr; e++)
    out[e->name] = Napi::Number::New(env, static_cast<double>(e->value));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["sizes"] = Table(env, kvm_sizes);
  exports["offsets"] = Table(env, kvm_offsets);
  exports["constants"] = Table(env, kvm_constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(kvm_layouts, Init)
