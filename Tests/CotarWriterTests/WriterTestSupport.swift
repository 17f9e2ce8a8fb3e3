import CotarCore
import CotarTestSupport
import CotarWriter
import Foundation

/// A temporary directory removed when released.
final class WriterTempDir {
  let path: String

  init(_ label: String = "writer") throws {
    let base = ScratchSpace.path("cotar-\(label)")
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
    path = base
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func at(_ relative: String) -> String { path + "/" + relative }

  /// Writes `bytes` at `relative`, creating parent directories.
  func write(_ relative: String, _ bytes: [UInt8], executable: Bool = false) throws {
    let full = at(relative)
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: full))
    if executable { chmod(full, 0o755) }
  }

  func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

  func symlink(_ relative: String, to target: String) throws {
    try FileManager.default.createSymbolicLink(atPath: at(relative), withDestinationPath: target)
  }

  func read(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: at(relative)))) }
}

/// Runs a program and returns its exit status and output.
@discardableResult
func writerRun(_ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil) async throws -> (
  status: Int32, stdout: String, stderr: String
) {
  let result = try await ProcessRunner.runDetached(
    arguments[0], Array(arguments.dropFirst()), in: directory, environment: environment)
  return (result.status, result.stdoutText, result.stderr)
}

/// Builds a small tree exercising the writer: long and UTF-8 names, empty files, duplicate
/// content, an executable, symbolic links. Files are created in `order` (names sorted or reversed).
func writerMakeTree(in dir: WriterTempDir, root: String = "tree", reversed: Bool = false) throws {
  let long = String(repeating: "d", count: 120) + "/" + String(repeating: "e", count: 120) + "/"
    + String(repeating: "f", count: 80) + ".txt"
  var files: [(String, [UInt8], Bool)] = [
    ("a.txt", Array("hello\n".utf8), false),
    ("sub/copy-of-a.txt", Array("hello\n".utf8), false),
    ("sub/deep/copy2.txt", Array("hello\n".utf8), false),
    ("empty", [], false),
    ("sub/empty2", [], false),
    ("données/été.txt", Array("été\n".utf8), false),
    ("日本語/ファイル.txt", Array("こんにちは\n".utf8), false),
    (long, Array("long name\n".utf8), false),
    ("run.sh", Array("#!/bin/sh\necho hi\n".utf8), true),
    ("big.bin", (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }, false),
  ]
  if reversed { files.reverse() }
  for (name, bytes, executable) in files { try dir.write("\(root)/\(name)", bytes, executable: executable) }
  try dir.symlink("\(root)/link-to-a", to: "a.txt")
  try dir.symlink("\(root)/sub/outside", to: "../../../etc/passwd")
}

/// A content digest for tests (the CLI uses SHA-256): the file's bytes themselves.
func writerContentDigest(_ input: TarInput) throws -> [UInt8] {
  Array(try Data(contentsOf: URL(fileURLWithPath: input.displayPath)))
}

/// A stand-in for SHA-256 in pack tests (CotarWriter takes its hashes from the caller; the
/// CLI passes swift-crypto's): FNV-1a 64 of the bytes as 16 hex digits, deterministic and
/// distinct for the few files a test writes.
func writerDigest(_ bytes: [UInt8]) -> String {
  let hex = String(PathHash.fnv1a64(bytes: bytes), radix: 16)
  return String(repeating: "0", count: 16 - hex.count) + hex
}

/// ``writerDigest(_:)`` of a file's bytes.
func writerFileDigest(_ path: String) throws -> String {
  writerDigest(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
}
