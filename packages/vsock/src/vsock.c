// Thin AF_VSOCK syscalls for Node. Only fd plumbing lives here: the byte stream is
// carried by libuv's own pipe stream in JS, so there is no read/write path to get wrong.
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

// Throw an Error carrying errno/syscall; JS maps errno to the usual Node code.
static napi_value throw_errno(napi_env env, int err, const char* syscall) {
  napi_value msg, e, v;
  char buf[128];
  snprintf(buf, sizeof buf, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &e);
  napi_create_int32(env, -err, &v);  // negative, like Node's uv errnos
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  napi_throw(env, e);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    napi_throw_type_error(env, NULL, "wrong number of arguments");
    return 0;
  }
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t* out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an unsigned 32-bit integer");
    return 0;
  }
  return 1;
}

static void fill_addr(struct sockaddr_vm* sa, uint32_t cid, uint32_t port) {
  memset(sa, 0, sizeof *sa);
  sa->svm_family = AF_VSOCK;
  sa->svm_cid = cid;
  sa->svm_port = port;
}

// socket() -> fd, already non-blocking and close-on-exec.
static napi_value Socket(napi_env env, napi_callback_info info) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  napi_value r;
  CHECK(napi_create_int32(env, fd, &r));
  return r;
}

// bind(fd, cid, port)
static napi_value Bind(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t fd;
  uint32_t cid, port;
  if (!get_args(env, info, 3, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  if (!get_u32(env, a[1], &cid) || !get_u32(env, a[2], &port)) return NULL;
  struct sockaddr_vm sa;
  fill_addr(&sa, cid, port);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0) return throw_errno(env, errno, "bind");
  return NULL;
}

// connect(fd, cid, port) -> true if connected now, false if in progress.
static napi_value Connect(napi_env env, napi_callback_info info) {
  napi_value a[3], r;
  int32_t fd;
  uint32_t cid, port;
  if (!get_args(env, info, 3, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  if (!get_u32(env, a[1], &cid) || !get_u32(env, a[2], &port)) return NULL;
  struct sockaddr_vm sa;
  fill_addr(&sa, cid, port);
  int rc;
  do rc = connect(fd, (struct sockaddr*)&sa, sizeof sa); while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) return throw_errno(env, errno, "connect");
  CHECK(napi_get_boolean(env, rc == 0, &r));
  return r;
}

// soError(fd) -> pending socket error (0 when connect succeeded).
static napi_value SoError(napi_env env, napi_callback_info info) {
  napi_value a[1], r;
  int32_t fd;
  int err = 0;
  socklen_t len = sizeof err;
  if (!get_args(env, info, 1, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return throw_errno(env, errno, "getsockopt");
  CHECK(napi_create_int32(env, err, &r));
  return r;
}

static napi_value addr_call(napi_env env, napi_callback_info info, int peer) {
  napi_value a[1], o, v;
  int32_t fd;
  if (!get_args(env, info, 1, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  struct sockaddr_vm sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  int rc = peer ? getpeername(fd, (struct sockaddr*)&sa, &len) : getsockname(fd, (struct sockaddr*)&sa, &len);
  if (rc < 0) return throw_errno(env, errno, peer ? "getpeername" : "getsockname");
  CHECK(napi_create_object(env, &o));
  CHECK(napi_create_uint32(env, sa.svm_cid, &v));
  CHECK(napi_set_named_property(env, o, "cid", v));
  CHECK(napi_create_uint32(env, sa.svm_port, &v));
  CHECK(napi_set_named_property(env, o, "port", v));
  return o;
}
static napi_value GetPeerName(napi_env env, napi_callback_info info) { return addr_call(env, info, 1); }
static napi_value GetSockName(napi_env env, napi_callback_info info) { return addr_call(env, info, 0); }

// close(fd): only for fds never handed to a libuv handle (failed connects, bind errors).
static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int32_t fd;
  if (!get_args(env, info, 1, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close");
  return NULL;
}

// ---- readiness polling (uv_poll_t) -------------------------------------------------
// Used to wait for a non-blocking connect. The poll must be stopped before the fd is
// given to a Pipe: libuv allows one watcher per fd and uv_pipe_open fails with EEXIST.
typedef struct {
  uv_poll_t h;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int stopped;
} poll_t;

static void on_poll_closed(uv_handle_t* h) {
  poll_t* p = (poll_t*)h->data;
  napi_delete_reference(p->env, p->cb);
  napi_async_destroy(p->env, p->ctx);
  free(p);
}

static void poll_stop(poll_t* p) {
  if (p->stopped) return;
  p->stopped = 1;
  uv_poll_stop(&p->h);  // frees the fd's watcher slot synchronously
  uv_close((uv_handle_t*)&p->h, on_poll_closed);
}

static void on_poll(uv_poll_t* h, int status, int events) {
  poll_t* p = (poll_t*)h->data;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_value cb, recv, argv[2], result;
  if (p->stopped) return;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, p->cb, &cb);
  napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
  napi_create_int32(env, status, &argv[0]);
  napi_create_int32(env, events, &argv[1]);
  if (napi_make_callback(env, p->ctx, recv, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
  napi_close_handle_scope(env, scope);
}

// pollStart(fd, events, cb(status, events)) -> handle for pollStop
static napi_value PollStart(napi_env env, napi_callback_info info) {
  napi_value a[3], ext, name;
  int32_t fd, events;
  if (!get_args(env, info, 3, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  CHECK(napi_get_value_int32(env, a[1], &events));
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poll_t* p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, ENOMEM, "uv_poll_init");
  int rc = uv_poll_init(loop, &p->h, fd);
  if (rc < 0) { free(p); return throw_errno(env, -rc, "uv_poll_init"); }
  p->h.data = p;
  p->env = env;
  CHECK(napi_create_reference(env, a[2], 1, &p->cb));
  CHECK(napi_create_string_utf8(env, "VSOCKPOLL", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, a[2], name, &p->ctx));  // the callback doubles as the async resource
  rc = uv_poll_start(&p->h, events, on_poll);
  if (rc < 0) { poll_stop(p); return throw_errno(env, -rc, "uv_poll_start"); }
  CHECK(napi_create_external(env, p, NULL, NULL, &ext));
  return ext;
}

static napi_value PollStop(napi_env env, napi_callback_info info) {
  napi_value a[1];
  void* p;
  if (!get_args(env, info, 1, a)) return NULL;
  CHECK(napi_get_value_external(env, a[0], &p));
  poll_stop((poll_t*)p);
  return NULL;
}

// ---- raw I/O, used only by the benchmark of the rejected design (JS Duplex over
// uv_poll + read/write), kept so the comparison in RESULTS.md can be re-run.
static napi_value buf_io(napi_env env, napi_callback_info info, int wr) {
  napi_value a[2], r;
  int32_t fd;
  void* data;
  size_t len;
  if (!get_args(env, info, 2, a)) return NULL;
  CHECK(napi_get_value_int32(env, a[0], &fd));
  CHECK(napi_get_buffer_info(env, a[1], &data, &len));
  ssize_t n;
  do n = wr ? send(fd, data, len, MSG_NOSIGNAL) : read(fd, data, len); while (n < 0 && errno == EINTR);
  CHECK(napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &r));  // -EAGAIN etc. returned, not thrown
  return r;
}
static napi_value RawRead(napi_env env, napi_callback_info info) { return buf_io(env, info, 0); }
static napi_value RawWrite(napi_env env, napi_callback_info info) { return buf_io(env, info, 1); }

// pollUpdate(handle, events): change the watched events of a running poll.
static napi_value PollUpdate(napi_env env, napi_callback_info info) {
  napi_value a[2];
  void* p;
  int32_t events;
  if (!get_args(env, info, 2, a)) return NULL;
  CHECK(napi_get_value_external(env, a[0], &p));
  CHECK(napi_get_value_int32(env, a[1], &events));
  poll_t* pp = (poll_t*)p;
  if (pp->stopped) return NULL;
  int rc = events ? uv_poll_start(&pp->h, events, on_poll) : uv_poll_stop(&pp->h);
  if (rc < 0) return throw_errno(env, -rc, "uv_poll_start");
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
    {"socket", 0, Socket, 0, 0, 0, napi_enumerable, 0},
    {"bind", 0, Bind, 0, 0, 0, napi_enumerable, 0},
    {"connect", 0, Connect, 0, 0, 0, napi_enumerable, 0},
    {"soError", 0, SoError, 0, 0, 0, napi_enumerable, 0},
    {"getpeername", 0, GetPeerName, 0, 0, 0, napi_enumerable, 0},
    {"getsockname", 0, GetSockName, 0, 0, 0, napi_enumerable, 0},
    {"close", 0, Close, 0, 0, 0, napi_enumerable, 0},
    {"pollStart", 0, PollStart, 0, 0, 0, napi_enumerable, 0},
    {"pollStop", 0, PollStop, 0, 0, 0, napi_enumerable, 0},
    {"pollUpdate", 0, PollUpdate, 0, 0, 0, napi_enumerable, 0},
    {"rawRead", 0, RawRead, 0, 0, 0, napi_enumerable, 0},
    {"rawWrite", 0, RawWrite, 0, 0, 0, napi_enumerable, 0},
  };
  napi_value v;
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  napi_create_uint32(env, VMADDR_CID_ANY, &v); napi_set_named_property(env, exports, "CID_ANY", v);
  napi_create_uint32(env, UV_READABLE, &v); napi_set_named_property(env, exports, "UV_READABLE", v);
  napi_create_uint32(env, UV_WRITABLE, &v); napi_set_named_property(env, exports, "UV_WRITABLE", v);
  napi_create_uint32(env, UV_DISCONNECT, &v); napi_set_named_property(env, exports, "UV_DISCONNECT", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
