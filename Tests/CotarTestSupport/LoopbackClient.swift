import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A raw TCP client to 127.0.0.1 for server tests that need what an HTTP client hides:
/// pipelined or trickled requests, a client that never reads, exact bytes on the wire.
///
/// Its calls block. `sendOffThePool`, `readOffThePool` and `readUntilClosed` block on a
/// Dispatch thread, never on Swift's cooperative pool, whose few threads (two on a 2-core CI
/// machine) every in-process server of every parallel suite needs: a test blocking there for
/// seconds made unrelated server tests run into their time limits.
public final class LoopbackClient: Sendable {
  /// The connected socket.
  public let fd: Int32

  /// Connects to 127.0.0.1:`port` with a small receive buffer (so a client that never reads
  /// holds the server back quickly) and a receive timeout for ``read(limit:)``.
  public init?(port: Int, receiveBuffer: Int32 = 4096, receiveTimeout: Duration = .seconds(5)) {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return nil }
    var size = receiveBuffer
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    let (seconds, attoseconds) = receiveTimeout.components
    var timeout = timeval(tv_sec: Int(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard status == 0 else {
      close(fd)
      return nil
    }
    self.fd = fd
  }

  deinit { close(fd) }

  /// Sends all of `text` (no SIGPIPE); `false` when the connection failed first.
  @discardableResult
  public func send(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    #if canImport(Glibc)
      let flags = Int32(MSG_NOSIGNAL)
    #else
      let flags: Int32 = 0
    #endif
    var sent = 0
    while sent < bytes.count {
      let count = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, $0.count - sent, flags) }
      guard count > 0 else { return false }
      sent += count
    }
    return true
  }

  /// ``send(_:)`` from a Dispatch thread: for a send that blocks until the server reads.
  public func sendOffThePool(_ text: String) async -> Bool {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: self.send(text)) }
    }
  }

  /// Reads until the peer closes, `limit` bytes arrived, or the receive timeout passes with
  /// nothing to read; returns the bytes and whether the peer closed (read 0 or ECONNRESET).
  public func read(limit: Int = .max) -> (bytes: [UInt8], closed: Bool) {
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while all.count < limit {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count > 0 {
        all += buffer[0..<count]
        continue
      }
      return (all, count == 0 || errno == ECONNRESET)
    }
    return (all, false)
  }

  /// ``read(limit:)`` on a Dispatch thread: it blocks until the peer closes or the receive
  /// timeout passes, and an async test must not hold a cooperative thread that long.
  public func readOffThePool(limit: Int = .max) async -> (bytes: [UInt8], closed: Bool) {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: self.read(limit: limit)) }
    }
  }

  /// What has arrived, without waiting: the bytes, and whether the peer closed.
  public func readAvailable() -> (bytes: [UInt8], closed: Bool) {
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
      if count > 0 {
        all += buffer[0..<count]
        continue
      }
      return (all, count == 0 || errno == ECONNRESET)
    }
  }

  /// Reads on a Dispatch thread until the peer closes or `timeout` passes; returns the bytes
  /// and whether the peer closed.
  public func readUntilClosed(timeout: Duration = .seconds(5)) async -> (bytes: [UInt8], closed: Bool) {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async {
        let deadline = ContinuousClock.now + timeout
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
          var waiting = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
          guard poll(&waiting, 1, 50) > 0 else { continue }
          let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
          if count > 0 {
            all += buffer[0..<count]
          } else if count == 0 || errno == ECONNRESET {
            continuation.resume(returning: (all, true))
            return
          }
        }
        continuation.resume(returning: (all, false))
      }
    }
  }
}
