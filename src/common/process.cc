#include "common/process.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace rapport {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
// Room for the handler itself and backtrace's unwinder.
constexpr size_t kCrashStackBytes = 64 * 1024;

void WriteAll(const char* s) {
  size_t len = std::strlen(s);
  while (len > 0) {
    ssize_t n = ::write(STDERR_FILENO, s, len);
    if (n <= 0) return;
    s += n;
    len -= static_cast<size_t>(n);
  }
}

void OnFatalSignal(int sig, siginfo_t*, void*) {
  // Only async-signal-safe calls from here: write(2), backtrace (its
  // library was loaded at install time), backtrace_symbols_fd, raise.
  WriteAll("process.fatal_signal signal=");
  WriteAll(SignalName(sig));
  WriteAll(" stack trace follows (resolve offsets with addr2line -Cfie BINARY OFFSET)\n");
  void* frames[64];
  int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  WriteAll("process.fatal_signal_end\n");
  // SA_RESETHAND restored the default action: re-raising ends the process
  // as the signal would have, with its exit status and core dump.
  ::raise(sig);
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The alternate stack of one thread, freed when the thread ends.
struct CrashStack {
  std::unique_ptr<char[]> memory;
  ~CrashStack() {
    if (!memory) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
  }
};

}  // namespace

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "another signal";
  }
}

void LogToStderr() {
  auto logger = std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
}

void PrepareThreadForCrashTraces() {
  thread_local CrashStack stack;
  if (stack.memory) return;
  stack.memory = std::make_unique<char[]>(kCrashStackBytes);
  stack_t ss{};
  ss.ss_sp = stack.memory.get();
  ss.ss_size = kCrashStackBytes;
  if (::sigaltstack(&ss, nullptr) != 0) stack.memory.reset();
}

void InstallCrashTraces() {
  // The first backtrace() loads libgcc's unwinder (dlopen, malloc): do it
  // now, not inside the handler.
  void* warm[2];
  (void)::backtrace(warm, 2);
  PrepareThreadForCrashTraces();
  struct sigaction sa{};
  sa.sa_sigaction = OnFatalSignal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : kFatalSignals) ::sigaction(sig, &sa, nullptr);
}

void BlockStopSignals() {
  sigset_t set = StopSignals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  sigset_t set = StopSignals();
  int sig = 0;
  while (::sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace rapport
