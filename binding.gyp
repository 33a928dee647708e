{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")"
  },
  "targets": [
    {
      "target_name": "dst_torch",
      "sources": [
        "native/torch/addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "conditions": [
        ["libtorch==''", {
          "include_dirs": ["/usr/include", "/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10"]
        }]
      ]
    },
    {
      "target_name": "dst_engine",
      "sources": [
        "native/engine/node/binding.c",
        "native/engine/engine.c",
        "native/engine/plan.c",
        "native/engine/pack.c",
        "native/engine/run.c",
        "native/engine/run_q8.c",
        "native/engine/uhp_geometry.c",
        "native/engine/reader.c",
        "native/engine/json.c",
        "native/engine/crc32.c",
        "native/engine/cpu.c",
        "native/engine/threadpool.c",
        "native/engine/kernels/ops.c",
        "native/engine/kernels/k_scalar.c",
        "native/engine/kernels/ops_q8.c",
        "native/engine/kernels/q8_scalar.c",
        "native/engine/kernels/q8_avx2.c",
        "native/engine/kernels/q8_neon.c",
        "native/engine/kernels/k_avx2.c",
        "native/engine/kernels/k_avx512.c",
        "native/engine/kernels/k_neon.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=c11", "-O3", "-Wall", "-Wextra", "-Werror", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11", "-O3", "-Wall", "-Wextra"]
      }
    }
  ]
}
