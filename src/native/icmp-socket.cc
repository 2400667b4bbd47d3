// relay-select's ICMP socket: a thin Node-API layer over Linux system calls for ping sockets
// (SOCK_DGRAM) and raw sockets (SOCK_RAW), IPv4 and IPv6. It opens, binds, sets options, sends with a
// TTL / hop limit, and receives through libuv polling with the reply TTL, the kernel receive timestamp
// and, for ping sockets, the ICMP errors of the error queue. Every decision (which kind, which options,
// what a message means) is made in TypeScript: src/probe/icmp-socket-transport.ts. Every failed system
// call throws an Error whose `code` is the errno name (EACCES, EPERM, ...) and whose `syscall` names it.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

namespace {

constexpr size_t kPacketBytes = 4096;
constexpr size_t kControlBytes = 512;
// Messages read per wake-up before yielding to the event loop; polling is level-triggered, so the rest
// is read on the next turn.
constexpr int kMessagesPerWakeUp = 256;

Napi::Error SyscallError(Napi::Env env, const char* syscall, int error) {
  const char* name = uv_err_name(-error);
  Napi::Error result = Napi::Error::New(env, std::string(syscall) + ": " + name + " (" + strerror(error) + ")");
  result.Set("code", Napi::String::New(env, name));
  result.Set("errno", Napi::Number::New(env, error));
  result.Set("syscall", Napi::String::New(env, syscall));
  return result;
}

std::string FormatAddress(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  return text;
}

int64_t RealtimeNanoseconds() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

class IcmpSocket : public Napi::ObjectWrap<IcmpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "IcmpSocket",
                       {
                           InstanceMethod<&IcmpSocket::Bind>("bind"),
                           InstanceMethod<&IcmpSocket::LocalPort>("localPort"),
                           InstanceMethod<&IcmpSocket::SetIntOption>("setIntOption"),
                           InstanceMethod<&IcmpSocket::SetIcmp6Filter>("setIcmp6Filter"),
                           InstanceMethod<&IcmpSocket::Send>("send"),
                           InstanceMethod<&IcmpSocket::Start>("start"),
                           InstanceMethod<&IcmpSocket::Flush>("flush"),
                           InstanceMethod<&IcmpSocket::Close>("close"),
                       });
  }

  // new IcmpSocket(family: 4 | 6, kind: 'ping' | 'raw', onMessage)
  // onMessage(bytes: Buffer, address: string, ttl: number, receivedAtNs: bigint, error?: object)
  explicit IcmpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IcmpSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "IcmpSocket(family: 4 | 6, kind: 'ping' | 'raw', onMessage: Function)").ThrowAsJavaScriptException();
      return;
    }
    const int family = info[0].As<Napi::Number>().Int32Value();
    const std::string kind = info[1].As<Napi::String>().Utf8Value();
    if ((family != 4 && family != 6) || (kind != "ping" && kind != "raw")) {
      Napi::TypeError::New(env, "family must be 4 or 6 and kind 'ping' or 'raw'").ThrowAsJavaScriptException();
      return;
    }
    family_ = family == 4 ? AF_INET : AF_INET6;
    ping_ = kind == "ping";
    fd_ = socket(family_, (ping_ ? SOCK_DGRAM : SOCK_RAW) | SOCK_NONBLOCK | SOCK_CLOEXEC, family == 4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6));
    if (fd_ < 0) {
      SyscallError(env, "socket", errno).ThrowAsJavaScriptException();
      return;
    }
    on_message_ = Napi::Persistent(info[2].As<Napi::Function>());
  }

  ~IcmpSocket() override {
    // Reached without close() only when the environment shuts down.
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  bool RequireOpen(Napi::Env env) {
    if (fd_ >= 0 && !closing_) return true;
    SyscallError(env, "icmp socket", EBADF).ThrowAsJavaScriptException();
    return false;
  }

  bool FillAddress(Napi::Env env, const std::string& text, uint16_t port, sockaddr_storage& address, socklen_t& length) {
    memset(&address, 0, sizeof address);
    if (family_ == AF_INET) {
      auto& v4 = reinterpret_cast<sockaddr_in&>(address);
      v4.sin_family = AF_INET;
      v4.sin_port = htons(port);
      length = sizeof v4;
      if (text.empty() || inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) return true;
    } else {
      auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
      v6.sin6_family = AF_INET6;
      v6.sin6_port = htons(port);
      length = sizeof v6;
      if (text.empty() || inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) return true;
    }
    SyscallError(env, "inet_pton", EINVAL).ThrowAsJavaScriptException();
    return false;
  }

  // bind(port): the wildcard address; on a ping socket the port is the ICMP identifier (0 = kernel's pick).
  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return env.Undefined();
    sockaddr_storage address;
    socklen_t length;
    if (!FillAddress(env, "", static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()), address, length)) return env.Undefined();
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) SyscallError(env, "bind", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // localPort(): from getsockname; on a ping socket, the ICMP identifier the kernel writes into every echo request.
  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return env.Undefined();
    sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      SyscallError(env, "getsockname", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint16_t port = address.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(address).sin_port : reinterpret_cast<sockaddr_in6&>(address).sin6_port;
    return Napi::Number::New(env, ntohs(port));
  }

  // setIntOption(level, name, value): setsockopt with an int.
  Napi::Value SetIntOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return env.Undefined();
    const int level = info[0].As<Napi::Number>().Int32Value();
    const int name = info[1].As<Napi::Number>().Int32Value();
    const int value = info[2].As<Napi::Number>().Int32Value();
    if (setsockopt(fd_, level, name, &value, sizeof value) != 0) SyscallError(env, "setsockopt", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // setIcmp6Filter(types): a raw ICMPv6 socket passes only these message types.
  Napi::Value SetIcmp6Filter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return env.Undefined();
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    Napi::Array types = info[0].As<Napi::Array>();
    for (uint32_t index = 0; index < types.Length(); index += 1) {
      ICMP6_FILTER_SETPASS(types.Get(index).As<Napi::Number>().Uint32Value() & 0xff, &filter);
    }
    if (setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) SyscallError(env, "setsockopt", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // send(packet, address, ttl): sets the TTL / hop limit, sends, and returns CLOCK_REALTIME (ns) read just
  // before sendto, the clock of SO_TIMESTAMPNS: receivedAtNs - sentAtNs is the round trip by the kernel's clock.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return env.Undefined();
    Napi::Buffer<uint8_t> packet = info[0].As<Napi::Buffer<uint8_t>>();
    const std::string destination = info[1].As<Napi::String>().Utf8Value();
    const int ttl = info[2].As<Napi::Number>().Int32Value();
    sockaddr_storage address;
    socklen_t length;
    if (!FillAddress(env, destination, 0, address, length)) return env.Undefined();
    // Set per packet (one call, one thread: nothing else sends in between) rather than by a control
    // message, which ping sockets of older kernels ignore for IPv6.
    const int level = family_ == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    const int name = family_ == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS;
    if (ttl != last_ttl_) {
      if (setsockopt(fd_, level, name, &ttl, sizeof ttl) != 0) {
        SyscallError(env, "setsockopt", errno).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      last_ttl_ = ttl;
    }
    // Each ICMP error queued on a ping socket also sets the socket's pending error, and the next send
    // returns that error instead of sending (sock_alloc_send_pskb). An earlier probe's Time Exceeded must
    // not fail this one: clear it first (SO_ERROR), and try once more if one arrived in between; a real
    // failure (no route) fails both times.
    int pending = 0;
    socklen_t pending_length = sizeof pending;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &pending_length);
    int64_t sent_at_ns = 0;
    ssize_t result = -1;
    for (int attempt = 0; attempt < 2 && result < 0; attempt += 1) {
      sent_at_ns = RealtimeNanoseconds();
      result = sendto(fd_, packet.Data(), packet.Length(), 0, reinterpret_cast<sockaddr*>(&address), length);
    }
    if (result < 0) {
      SyscallError(env, "sendto", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::BigInt::New(env, sent_at_ns);
  }

  // start(): polls the socket on the event loop of this environment and holds the object alive until close().
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env) || poll_ != nullptr) return env.Undefined();
    // With it, a queued ICMP error raises POLLPRI next to POLLERR; libuv treats a bare POLLERR as a dead
    // descriptor and stops the handle (handled too, in OnPoll, for kernels without the option).
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_SELECT_ERR_QUEUE, &one, sizeof one);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "napi_get_uv_event_loop failed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto* poll = new uv_poll_t;
    int result = uv_poll_init(loop, poll, fd_);
    if (result != 0) {
      delete poll;
      SyscallError(env, "uv_poll_init", -result).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    poll->data = this;
    result = uv_poll_start(poll, UV_READABLE | UV_PRIORITIZED, OnPoll);
    if (result != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
      SyscallError(env, "uv_poll_start", -result).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    poll_ = poll;
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "RelaySelectIcmpSocket");
    Ref();
    return env.Undefined();
  }

  // flush(): delivers what the kernel holds now, synchronously (a timeout checks before it gives up).
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ >= 0 && !closing_) Drain(env, false);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closing_ || fd_ < 0) return env.Undefined();
    closing_ = true;
    if (poll_ == nullptr) {
      ::close(fd_);
      fd_ = -1;
      on_message_.Reset();
      return env.Undefined();
    }
    uv_poll_stop(poll_);
    // The descriptor is closed and the object released once libuv is done with the handle, never from
    // inside a callback of this object.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnClosed);
    return env.Undefined();
  }

  static void OnClosed(uv_handle_t* handle) {
    auto* self = static_cast<IcmpSocket*>(handle->data);
    delete reinterpret_cast<uv_poll_t*>(handle);
    self->poll_ = nullptr;
    ::close(self->fd_);
    self->fd_ = -1;
    self->on_message_.Reset();
    self->async_context_.reset();
    self->Unref();
  }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<IcmpSocket*>(handle->data);
    if (self->closing_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->Drain(env, true);
    // libuv stopped the handle on a bare POLLERR: what raised it has been read, poll again.
    if (status < 0 && !self->closing_) uv_poll_start(handle, UV_READABLE | UV_PRIORITIZED, OnPoll);
  }

  // Reads the error queue (ping sockets), then the receive queue, until both are empty or the budget is spent.
  void Drain(Napi::Env env, bool from_event_loop) {
    for (int budget = kMessagesPerWakeUp; budget > 0 && !closing_; budget -= 1) {
      int read = ping_ ? ReceiveOne(env, MSG_ERRQUEUE, from_event_loop) : 0;
      if (read == 0 && !closing_) read = ReceiveOne(env, 0, from_event_loop);
      if (read == 0) return;
      // On a ping socket a pending socket error (sk_err, set with each queued ICMP error) fails one plain
      // recvmsg: the next pass reads the error queue.
      if (read < 0 && !ping_) return;
    }
  }

  // 1: one message delivered; 0: nothing queued; -1: recvmsg failed.
  int ReceiveOne(Napi::Env env, int flags, bool from_event_loop) {
    uint8_t bytes[kPacketBytes];
    alignas(cmsghdr) uint8_t control[kControlBytes];
    sockaddr_storage source;
    iovec vector{bytes, sizeof bytes};
    msghdr message{};
    message.msg_name = &source;
    message.msg_namelen = sizeof source;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    memset(&source, 0, sizeof source);
    const ssize_t length = recvmsg(fd_, &message, flags | MSG_DONTWAIT);
    if (length < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;

    int ttl = -1;
    int64_t received_at_ns = 0;
    Napi::Value error = env.Undefined();
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS) {
        timespec stamp;
        memcpy(&stamp, CMSG_DATA(header), sizeof stamp);
        received_at_ns = static_cast<int64_t>(stamp.tv_sec) * 1000000000 + stamp.tv_nsec;
      } else if ((header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_TTL) || (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_HOPLIMIT)) {
        memcpy(&ttl, CMSG_DATA(header), sizeof ttl);
      } else if ((header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_RECVERR) || (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_RECVERR)) {
        sock_extended_err extended;
        memcpy(&extended, CMSG_DATA(header), sizeof extended);
        Napi::Object details = Napi::Object::New(env);
        details.Set("errno", Napi::Number::New(env, extended.ee_errno));
        details.Set("origin", Napi::Number::New(env, extended.ee_origin));
        details.Set("type", Napi::Number::New(env, extended.ee_type));
        details.Set("code", Napi::Number::New(env, extended.ee_code));
        details.Set("info", Napi::Number::New(env, extended.ee_info));
        // The offender (the router that sent the ICMP error) follows the structure in the same message.
        const size_t offender_at = reinterpret_cast<uint8_t*>(SO_EE_OFFENDER(reinterpret_cast<sock_extended_err*>(CMSG_DATA(header)))) - CMSG_DATA(header);
        const size_t available = header->cmsg_len - CMSG_LEN(0);
        sockaddr_storage offender;
        memset(&offender, 0, sizeof offender);
        if (available > offender_at) memcpy(&offender, CMSG_DATA(header) + offender_at, std::min(available - offender_at, sizeof offender));
        details.Set("offender", Napi::String::New(env, FormatAddress(offender)));
        error = details;
      }
    }
    const size_t kept = std::min(static_cast<size_t>(length), sizeof bytes);
    napi_value arguments[] = {
        Napi::Buffer<uint8_t>::Copy(env, bytes, kept),
        Napi::String::New(env, FormatAddress(source)),
        Napi::Number::New(env, ttl),
        Napi::BigInt::New(env, received_at_ns),
        error,
    };
    Deliver(env, arguments, from_event_loop);
    return 1;
  }

  void Deliver(Napi::Env env, napi_value (&arguments)[5], bool from_event_loop) {
    if (on_message_.IsEmpty()) return;
    if (from_event_loop) {
      // MakeCallback: promises settled by the listener run their continuations when it returns.
      on_message_.MakeCallback(Value(), {arguments[0], arguments[1], arguments[2], arguments[3], arguments[4]}, *async_context_);
    } else {
      on_message_.Call(Value(), {arguments[0], arguments[1], arguments[2], arguments[3], arguments[4]});
    }
    if (env.IsExceptionPending()) {
      Napi::Error thrown = env.GetAndClearPendingException();
      if (from_event_loop) {
        napi_fatal_exception(env, thrown.Value());
      } else {
        thrown.ThrowAsJavaScriptException();
      }
    }
  }

  int fd_ = -1;
  int family_ = AF_INET;
  bool ping_ = false;
  bool closing_ = false;
  int last_ttl_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_message_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
};

Napi::Object Constants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  const std::pair<const char*, int> entries[] = {
      {"SOL_SOCKET", SOL_SOCKET},
      {"SO_TIMESTAMPNS", SO_TIMESTAMPNS},
      {"SO_RCVBUF", SO_RCVBUF},
      {"IPPROTO_IP", IPPROTO_IP},
      {"IP_RECVTTL", IP_RECVTTL},
      {"IP_RECVERR", IP_RECVERR},
      {"IPPROTO_IPV6", IPPROTO_IPV6},
      {"IPV6_RECVHOPLIMIT", IPV6_RECVHOPLIMIT},
      {"IPV6_RECVERR", IPV6_RECVERR},
      {"SO_EE_ORIGIN_ICMP", SO_EE_ORIGIN_ICMP},
      {"SO_EE_ORIGIN_ICMP6", SO_EE_ORIGIN_ICMP6},
  };
  for (const auto& [name, value] : entries) constants.Set(name, Napi::Number::New(env, value));
  return constants;
}

Napi::Object Initialize(Napi::Env env, Napi::Object exports) {
  exports.Set("IcmpSocket", IcmpSocket::Define(env));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(relay_select_icmp, Initialize)
