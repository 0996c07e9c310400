import Synchronization

/// Process-wide counters for checking that nothing leaks.
public enum AsyncGeneratorDiagnostics {
  /// Body tasks started and not yet ended, in the whole process.
  ///
  /// A body task ends when its body returns or throws, so after every generator has been
  /// exhausted or closed (and its finalization has run) this is zero.
  ///
  /// ```swift
  /// let before = AsyncGeneratorDiagnostics.liveBodyTasks
  /// try await withAsyncGeneratorScope { _ in try await runWorkload() }
  /// assert(AsyncGeneratorDiagnostics.liveBodyTasks == before)   // nothing left suspended
  /// ```
  public static var liveBodyTasks: Int {
    GeneratorDiagnostics.liveBodyTasks.load(ordering: .acquiring)
  }
}

enum GeneratorDiagnostics {
  static let liveBodyTasks = Atomic<Int>(0)

  static func bodyTaskStarted() {
    liveBodyTasks.add(1, ordering: .relaxed)
  }

  static func bodyTaskEnded() {
    liveBodyTasks.subtract(1, ordering: .releasing)
  }
}
