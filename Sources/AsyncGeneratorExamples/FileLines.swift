import AsyncGenerators
import Foundation

/// The files the tour's generators hold open; their cleanup reports each close here.
actor OpenFiles {
  private(set) var paths: [String] = []
  private(set) var failedCloses = 0

  func opened(_ path: String) {
    paths.append(path)
  }

  func closed(_ path: String, succeeded: Bool) async {
    await simulatedIO()  // as if telling a remote registry
    paths.removeAll { $0 == path }
    if !succeeded { failedCloses += 1 }
  }
}

struct CannotOpenFile: Error {
  let path: String
}

/// A line reader over a C `FILE`, with blocking reads.
final class LineReader {
  private let file: UnsafeMutablePointer<FILE>
  private var buffer: UnsafeMutablePointer<CChar>?
  private var capacity = 0

  init(path: String) throws {
    guard let file = fopen(path, "r") else { throw CannotOpenFile(path: path) }
    self.file = file
  }

  /// The next line without its line break, or `nil` at the end of the file.
  func readLine() -> String? {
    guard getline(&buffer, &capacity, file) >= 0, let buffer else { return nil }
    var line = String(cString: buffer)
    if line.hasSuffix("\n") { line.removeLast() }
    return line
  }

  /// Closes the file; returns whether `fclose` succeeded.
  func close() -> Bool {
    free(buffer)
    buffer = nil
    return fclose(file) == 0
  }
}

/// The lines of the file at `path`, read one at a time as the consumer asks for them.
///
/// The first `next()` opens the file (creating the generator does nothing). The body closes
/// it on every path (at the end of the file, or when `close()` throws `GeneratorExit` at its
/// `yield`), with cleanup that awaits: it reports the close to `openFiles`.
///
/// `getline` blocks its thread while it reads. That is fine for a small local file like the
/// tour's (and Foundation on Linux has no async file API); for large or slow files, use
/// non-blocking I/O.
func lines(ofFile path: String, openFiles: OpenFiles) -> AsyncGenerator<String, Void> {
  AsyncGenerator { yield in
    let reader = try LineReader(path: path)
    await openFiles.opened(path)
    do {
      while let line = reader.readLine() {
        try await yield(line)
      }
    } catch {
      await openFiles.closed(path, succeeded: reader.close())
      throw error
    }
    await openFiles.closed(path, succeeded: reader.close())
  }
}

func fileLinesExample() async throws {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("async-generator-examples-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  let file = folder.appendingPathComponent("planets.txt")
  try "Mercury\nVenus\nEarth\nMars\n".write(to: file, atomically: true, encoding: .utf8)
  print("  wrote planets.txt (4 lines) in a temporary folder")

  let openFiles = OpenFiles()

  // Read to the end: the body's normal path closes the file.
  let planets = lines(ofFile: file.path, openFiles: openFiles)
  check(await openFiles.paths.isEmpty, "creating the generator does not open the file")
  var all: [String] = []
  for try await line in planets {
    all.append(line)
  }
  print("  all lines: \(all); files still open: \(await openFiles.paths.count)")
  check(all == ["Mercury", "Venus", "Earth", "Mars"], "the generator reads every line")
  check(await openFiles.paths.isEmpty, "the file is closed at its end")

  // Stop early: `closing` closes the generator, whose GeneratorExit path closes the file.
  let firstTwo = try await lines(ofFile: file.path, openFiles: openFiles).closing { lines in
    var firstTwo: [String] = []
    while firstTwo.count < 2, let line = try await lines.next() {
      firstTwo.append(line)
    }
    print("  read \(firstTwo); files open while reading: \(await openFiles.paths.count)")
    check(await openFiles.paths.count == 1, "the file is open while the generator is suspended")
    return firstTwo
  }
  print("  after closing {}: files still open: \(await openFiles.paths.count)")
  check(firstTwo == ["Mercury", "Venus"], "the first two lines")
  check(await openFiles.paths.isEmpty, "closing the generator closed the file")
  check(await openFiles.failedCloses == 0, "every fclose succeeded")
}
