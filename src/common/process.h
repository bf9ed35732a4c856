#pragma once
// Process-wide set-up for the programs (rapport, the test server): logs on
// standard error, a stack trace on a fatal signal, and the stop signals
// (SIGINT, SIGTERM) waited for by one thread instead of killing the process.

namespace rapport {

// Sends spdlog's default logger to standard error (colored on a terminal),
// where docs/operations.md says the logs are; standard output stays for what
// a command prints.
void LogToStderr();

// On SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT, writes
// "process.fatal_signal signal=SIGSEGV" and the stack's frames to standard
// error, then re-raises the signal with its default action, so the exit
// status and the core dump stay what they would have been. The handler uses
// only async-signal-safe calls (backtrace_symbols_fd writes without
// allocating) and runs on an alternate stack, so a stack overflow is
// reported too.
void InstallCrashTraces();
// Gives the calling thread an alternate signal stack of its own (threads do
// not inherit one), so a stack overflow on it is still reported. Long-lived
// threads (workers, I/O) call it once at start; the stack is freed when the
// thread ends.
void PrepareThreadForCrashTraces();

// Blocks SIGINT and SIGTERM in the calling thread and in every thread
// started after it; call it first in main, then WaitForStopSignal.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM (blocked by BlockStopSignals) and returns it.
int WaitForStopSignal();

// "SIGTERM" for SIGTERM, "signal 42" for what has no name here.
const char* SignalName(int sig);

}  // namespace rapport
