// async-generator-stress: many tasks making random calls, drops and cancellations on shared
// generators, every outcome checked against the contract (see StressEngine.swift).
//
//   async-generator-stress [--operations N] [--long] [--seed S] [--workers W]
//                          [--shared-slots K] [--stall-timeout SECONDS]
//
// `--long` runs 1,000,000 operations. The seed is printed; the same seed replays the same
// operations and bodies (not the same thread interleaving). Exit status: 0 when every
// invariant held, 1 on a violation or a leak, 3 when the watchdog found the run stuck (it
// prints what each worker was doing), 2 for a bad command line.

import AsyncGenerators
import Foundation

func usage(_ message: String) -> Never {
  FileHandle.standardError.write(
    Data(
      ("async-generator-stress: \(message)\n"
        + "usage: async-generator-stress [--operations N] [--long] [--seed S] [--workers W] "
        + "[--shared-slots K] [--stall-timeout SECONDS]\n").utf8))
  exit(2)
}

var configuration = StressConfiguration(
  seed: UInt64.random(in: 0...999_999_999), operations: 100_000)
configuration.libraryFinalization = true
configuration.exactLiveBodyTasks = true

var arguments = CommandLine.arguments.dropFirst()
@MainActor func value(for option: String) -> Int {
  guard let text = arguments.popFirst(),
    let value = Int(text.replacingOccurrences(of: "_", with: "")),
    value >= 0
  else { usage("\(option) needs a non-negative integer") }
  return value
}
while let argument = arguments.popFirst() {
  switch argument {
  case "--operations": configuration.operations = value(for: argument)
  case "--long": configuration.operations = 1_000_000
  case "--seed": configuration.seed = UInt64(value(for: argument))
  case "--workers": configuration.workers = max(1, value(for: argument))
  case "--shared-slots": configuration.sharedSlots = value(for: argument)
  case "--stall-timeout": configuration.stallTimeout = .seconds(max(1, value(for: argument)))
  case "-h", "--help": usage("help")
  default: usage("unknown argument \(argument)")
  }
}

let operations = configuration.operations
let workers = configuration.workers
configuration.progressInterval = max(1, operations / workers / 10)
configuration.progress = { done in
  // About ten lines a run, from whichever worker crosses each tenth.
  if done % max(1, operations / 10) < workers { print("  ... \(done) operations") }
}
configuration.onStall = { description in
  FileHandle.standardError.write(Data("\(description)\n".utf8))
  exit(3)
}

print(
  "async-generator-stress: seed \(configuration.seed), \(operations) operations, "
    + "\(configuration.workers) workers, \(configuration.workers + configuration.sharedSlots) "
    + "generator slots "
    + "(rerun with --seed \(configuration.seed) --operations \(operations)"
    + ")")
let report = await StressEngine.run(configuration)
print(report)
exit(report.passed ? 0 : 1)
