{
  "targets": [{
    "target_name": "porthole_vsock",
    "sources": ["src/vsock.c"],
    "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "conditions": [["OS!='linux'", { "type": "none", "sources": [] }]]
  }]
}
