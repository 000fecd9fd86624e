{
  "targets": [
    {
      "target_name": "kvm_layouts",
      "sources": ["native/kvm-abi.c", "native/layouts.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall"]
    }
  ]
}
