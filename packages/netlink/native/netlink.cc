// @tabby/netlink native addon: syscalls only. Every message is encoded and decoded in
// TypeScript; this file opens netlink sockets, sends one buffer holding many messages, drains
// received datagrams back to back into a caller-owned buffer (each datagram is a sequence of
// self-delimiting nlmsghdr messages, so the concatenation parses as one stream), watches the
// fd with libuv, switches network namespaces around a synchronous callback, and sets socket
// options on arbitrary fds (TCP_MD5SIG / GTSM for the BGP speaker).
//
// Invariants: no call blocks (sockets are SOCK_NONBLOCK); errors are thrown as JS Errors with
// `errno` (number) and `syscall`; ENOBUFS on receive is returned as a negative value, never
// thrown and never fatal; the original namespace is restored even when the callback throws.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

namespace {

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err) {
  std::string msg = std::string(syscall) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Reads datagrams into buf[0..cap) back to back until EAGAIN or less than one slot of room is
// left. recvmmsg(2) takes up to 64 datagrams per syscall into `slot`-byte slots, which are then
// compacted in place: a batch of thousands of acks costs tens of syscalls, not thousands.
// MSG_TRUNC makes netlink report each datagram's real length, so a datagram larger than a slot
// is detected: it is dropped (never half-parsed), the datagrams after it are kept, *err is set
// to EMSGSIZE and *truncated to the size needed, so the caller can grow its slots and re-read.
// Returns bytes read; sets *err to a receive error (e.g. ENOBUFS) when one stopped it.
constexpr unsigned kMaxSlots = 64;

size_t DrainInto(int fd, uint8_t* buf, size_t cap, size_t slot, int* err, size_t* truncated) {
  size_t off = 0;
  *err = 0;
  struct mmsghdr msgs[kMaxSlots];
  struct iovec iov[kMaxSlots];
  while (cap - off >= slot) {
    unsigned slots = static_cast<unsigned>(std::min<size_t>(kMaxSlots, (cap - off) / slot));
    memset(msgs, 0, sizeof(msgs[0]) * slots);
    for (unsigned i = 0; i < slots; i++) {
      iov[i].iov_base = buf + off + i * slot;
      iov[i].iov_len = slot;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, slots, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
      break;
    }
    size_t base = off;
    for (int i = 0; i < n; i++) {
      size_t len = msgs[i].msg_len;
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > slot) {
        *err = EMSGSIZE;
        *truncated = std::max(*truncated, len);
        continue;
      }
      if (off != base + i * slot) memmove(buf + off, buf + base + i * slot, len);
      off += len;
    }
    if (static_cast<unsigned>(n) < slots) break;  // queue drained (or an error is pending)
  }
  return off;
}

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Socket",
                       {InstanceMethod("send", &Socket::Send), InstanceMethod("drain", &Socket::Drain),
                        InstanceMethod("setOption", &Socket::SetOption),
                        InstanceMethod("getOption", &Socket::GetOption),
                        InstanceMethod("startPoll", &Socket::StartPoll),
                        InstanceMethod("stopPoll", &Socket::StopPoll), InstanceMethod("close", &Socket::Close),
                        InstanceMethod("setPollRef", &Socket::SetPollRef),
                        InstanceAccessor("fd", &Socket::Fd, nullptr),
                        InstanceAccessor("truncated", &Socket::Truncated, nullptr),
                        InstanceAccessor("portId", &Socket::PortId, nullptr)});
  }

  // new Socket(protocol, groups): socket + bind (kernel-assigned port id, legacy group mask).
  explicit Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
    Napi::Env env = info.Env();
    int proto = info[0].As<Napi::Number>().Int32Value();
    uint32_t groups = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 0;
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd_ < 0) throw ErrnoError(env, "socket", errno);
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = groups;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) {
      int e = errno;
      close(fd_);
      fd_ = -1;
      throw ErrnoError(env, "bind", e);
    }
    socklen_t len = sizeof sa;
    if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&sa), &len) == 0) port_ = sa.nl_pid;
  }

  ~Socket() override { CloseNow(); }

 private:
  int fd_ = -1;
  uint32_t port_ = 0;
  int pending_err_ = 0;
  size_t truncated_ = 0;  // largest datagram dropped by the last drain that met EMSGSIZE
  size_t slot_ = 65536;   // receive slot of the poll callback's drains
  bool polling_ = false;
  bool poll_ref_ = true;  // whether a polled socket keeps the event loop alive
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference cb_;
  Napi::ObjectReference buf_;
  std::unique_ptr<Napi::AsyncContext> ctx_;

  void CheckOpen(Napi::Env env) {
    if (fd_ < 0) throw ErrnoError(env, "netlink socket", EBADF);
  }

  // send(buffer, offset, length) -> bytes sent. One datagram holding many messages.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    auto b = info[0].As<Napi::Uint8Array>();
    size_t off = info[1].As<Napi::Number>().Uint32Value();
    size_t len = info[2].As<Napi::Number>().Uint32Value();
    if (off + len > b.ByteLength()) throw Napi::RangeError::New(env, "send: range outside buffer");
    struct sockaddr_nl to;
    memset(&to, 0, sizeof to);
    to.nl_family = AF_NETLINK;
    ssize_t n;
    do {
      n = sendto(fd_, b.Data() + off, len, 0, reinterpret_cast<struct sockaddr*>(&to), sizeof to);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw ErrnoError(env, "sendto", errno);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // drain(buffer, slot) -> bytes read (>= 0), or -errno when a receive error (ENOBUFS, or
  // EMSGSIZE for a datagram larger than `slot`: see `truncated`) came first.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    auto b = info[0].As<Napi::Uint8Array>();
    size_t slot = SlotArg(info, 1);
    return Napi::Number::New(env, DrainOnce(b.Data(), b.ByteLength(), slot));
  }

  static size_t SlotArg(const Napi::CallbackInfo& info, size_t i) {
    if (info.Length() <= i || !info[i].IsNumber()) return 65536;
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 4096 && v <= (1u << 30))) throw Napi::RangeError::New(info.Env(), "slot size out of range");
    return static_cast<size_t>(v);
  }

  // Bytes read, 0 when nothing is queued, or -errno. An error met after some data was read is
  // kept and returned by the next call, so an overrun is never lost.
  double DrainOnce(uint8_t* buf, size_t cap, size_t slot) {
    if (pending_err_ != 0) {
      int e = pending_err_;
      pending_err_ = 0;
      return -e;
    }
    if (cap < slot) return -EMSGSIZE;  // the caller's buffer cannot hold one slot
    int err = 0;
    size_t trunc = 0;
    size_t n = DrainInto(fd_, buf, cap, slot, &err, &trunc);
    if (err == EMSGSIZE) truncated_ = trunc;
    if (n == 0) return -err;
    pending_err_ = err;
    return static_cast<double>(n);
  }

  // setOption(level, name, int) for SOL_SOCKET / SOL_NETLINK integer options.
  Napi::Value SetOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    int level = info[0].As<Napi::Number>().Int32Value();
    int name = info[1].As<Napi::Number>().Int32Value();
    int v = info[2].As<Napi::Number>().Int32Value();
    if (setsockopt(fd_, level, name, &v, sizeof v) < 0) throw ErrnoError(env, "setsockopt", errno);
    return env.Undefined();
  }

  Napi::Value GetOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    int level = info[0].As<Napi::Number>().Int32Value();
    int name = info[1].As<Napi::Number>().Int32Value();
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd_, level, name, &v, &len) < 0) throw ErrnoError(env, "getsockopt", errno);
    return Napi::Number::New(env, v);
  }

  // startPoll(buffer, slot, cb): when readable, drains into buffer and calls cb(bytes) or
  // cb(-errno). Called again to swap in a larger buffer or slot.
  Napi::Value StartPoll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    slot_ = SlotArg(info, 1);
    buf_ = Napi::Persistent(info[0].As<Napi::Object>());
    cb_ = Napi::Persistent(info[2].As<Napi::Function>());
    if (!ctx_) ctx_ = std::make_unique<Napi::AsyncContext>(env, "tabby:netlink");
    if (!poll_) {
      uv_loop_t* loop = nullptr;
      napi_get_uv_event_loop(env, &loop);
      poll_ = new uv_poll_t;
      uv_poll_init(loop, poll_, fd_);
      poll_->data = this;
      if (!poll_ref_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
    int r = uv_poll_start(poll_, UV_READABLE, &Socket::OnReadable);
    if (r < 0) throw ErrnoError(env, "uv_poll_start", -r);
    if (!polling_) {
      Ref();  // a polled socket must not be collected while libuv holds a pointer to it
      polling_ = true;
    }
    return env.Undefined();
  }

  void Unpoll() {
    if (poll_) uv_poll_stop(poll_);
    if (polling_) {
      polling_ = false;
      Unref();
    }
  }

  // setPollRef(bool): like net.Socket#ref/unref, whether polling keeps the event loop alive.
  Napi::Value SetPollRef(const Napi::CallbackInfo& info) {
    poll_ref_ = info[0].ToBoolean().Value();
    if (poll_) {
      if (poll_ref_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      else uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
    return info.Env().Undefined();
  }

  Napi::Value StopPoll(const Napi::CallbackInfo& info) {
    Unpoll();
    return info.Env().Undefined();
  }

  static void OnReadable(uv_poll_t* h, int status, int /*events*/) {
    Socket* self = static_cast<Socket*>(h->data);
    if (self == nullptr || self->fd_ < 0 || self->cb_.IsEmpty()) return;
    Napi::Env env = self->cb_.Env();
    Napi::HandleScope scope(env);
    // A pending socket error (ENOBUFS after an overrun) shows as POLLERR, on which libuv stops
    // the handle and reports UV_EBADF: re-arm it, and let recv() report (and clear) the error.
    if (status < 0) uv_poll_start(h, UV_READABLE, &Socket::OnReadable);
    auto b = self->buf_.Value().As<Napi::Uint8Array>();
    double result = self->DrainOnce(b.Data(), b.ByteLength(), self->slot_);
    if (result == 0) return;  // spurious wake-up
    try {
      self->cb_.MakeCallback(self->Value(), {Napi::Number::New(env, result)}, *self->ctx_);
    } catch (const Napi::Error& e) {
      // The JS side never throws from this callback. If it does, report it the way Node reports
      // any uncaught exception ('uncaughtException', or exit): never leave it pending in the
      // environment, where it would surface from the next, unrelated native call.
      napi_fatal_exception(env, e.Value());
    }
  }

  void CloseNow() {
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Unpoll();
    CloseNow();
    cb_.Reset();
    buf_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }
  Napi::Value Truncated(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(truncated_));
  }
};

// withNetns(target: string path | number fd, fn): runs fn() with this thread in the target
// network namespace, then switches back (also when fn throws). Returns fn's result.
Napi::Value WithNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int target;
  bool ownTarget = false;
  if (info[0].IsString()) {
    std::string path = info[0].As<Napi::String>().Utf8Value();
    target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) throw ErrnoError(env, "open netns", errno);
    ownTarget = true;
  } else {
    target = info[0].As<Napi::Number>().Int32Value();
  }
  int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (orig < 0) {
    int e = errno;
    if (ownTarget) close(target);
    throw ErrnoError(env, "open /proc/thread-self/ns/net", e);
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int e = errno;
    if (ownTarget) close(target);
    close(orig);
    throw ErrnoError(env, "setns", e);
  }
  if (ownTarget) close(target);
  Napi::Value result;
  try {
    result = info[1].As<Napi::Function>().Call({});
  } catch (...) {
    if (setns(orig, CLONE_NEWNET) < 0) abort();  // cannot continue in the wrong namespace
    close(orig);
    throw;
  }
  if (setns(orig, CLONE_NEWNET) < 0) abort();
  close(orig);
  return result;
}

// setsockoptInt(fd, level, name, value)
Napi::Value SetSockOptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  int v = info[3].As<Napi::Number>().Int32Value();
  if (setsockopt(fd, level, name, &v, sizeof v) < 0) throw ErrnoError(env, "setsockopt", errno);
  return env.Undefined();
}

// getsockoptInt(fd, level, name) -> value
Napi::Value GetSockOptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) < 0) throw ErrnoError(env, "getsockopt", errno);
  return Napi::Number::New(env, v);
}

// setsockoptBuf(fd, level, name, bytes): for structs encoded in TypeScript (struct tcp_md5sig).
Napi::Value SetSockOptBuf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  auto b = info[3].As<Napi::Uint8Array>();
  if (setsockopt(fd, level, name, b.Data(), static_cast<socklen_t>(b.ByteLength())) < 0)
    throw ErrnoError(env, "setsockopt", errno);
  return env.Undefined();
}

// tcpSocket(family 4|6) -> fd of a new, unconnected non-blocking TCP socket, so options that
// must precede connect() (TCP_MD5SIG on the active side, RFC 2385) can be set before Node
// wraps and connects it.
Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, "socket", errno);
  return Napi::Number::New(env, fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket));
  exports.Set("Socket", Socket::Init(env));
  exports.Set("withNetns", Napi::Function::New(env, WithNetns));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetSockOptInt));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetSockOptInt));
  exports.Set("setsockoptBuf", Napi::Function::New(env, SetSockOptBuf));
  return exports;
}

}  // namespace

NODE_API_MODULE(tabby_netlink, Init)
