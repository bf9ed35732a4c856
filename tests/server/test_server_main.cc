// rapport_test_server DATA_DIR PORT_FILE [FLAGS]: serves DATA_DIR on
// 127.0.0.1 at a free port, writes the port to PORT_FILE (atomically), and
// runs like `rapport serve` until SIGINT or SIGTERM (draining) or a kill.
// Used by the process tests (kill -9, SIGTERM drain, crash traces).
//
// Test-only flags, which the real binary does not have:
//   --drain-ms=N         the drain deadline (ServerOptions::drain_timeout)
//   --slow-view-ms=N     the 360 view (GET /v1/customers/{id}/view) takes N ms,
//                        ignoring cancellation: a long-running request; it
//                        creates DATA_DIR/view-started when it begins
//   --crash-view=SIGNAL  the 360 view crashes the process on its worker
//                        thread with SIGSEGV (a real bad access) or SIGABRT

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "common/process.h"
#include "server/server.h"

namespace {

void Crash(const std::string& how) {
  if (how == "SIGABRT") std::abort();
  // An address the compiler cannot see is bad, so this is a real fault in
  // the handler's thread, not a trap it inserted.
  volatile uintptr_t address = 8;
  *reinterpret_cast<volatile int*>(address) = 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rapport_test_server DATA_DIR PORT_FILE [--drain-ms=N] [--slow-view-ms=N] "
                         "[--crash-view=SIGSEGV|SIGABRT]\n");
    return 2;
  }
  rapport::LogToStderr();
  rapport::InstallCrashTraces();
  rapport::BlockStopSignals();
  rapport::server::ServerOptions options;
  options.data_dir = argv[1];
  options.listen = "127.0.0.1:0";
  options.worker_threads = 8;
  int64_t slow_view_ms = 0;
  std::string crash_view;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&a](const char* flag) -> const char* {
      size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = value("--drain-ms=")) {
      options.drain_timeout = std::chrono::milliseconds(std::atoll(v));
    } else if (const char* v = value("--slow-view-ms=")) {
      slow_view_ms = std::atoll(v);
    } else if (const char* v = value("--crash-view=")) {
      crash_view = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  auto server = rapport::server::Server::Open(options);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  if (slow_view_ms > 0 || !crash_view.empty()) {
    std::string marker = options.data_dir + "/view-started";
    (*server)->customers().RegisterViewSection(
        "test", [slow_view_ms, crash_view, marker](rapport::customer::CustomerId, const rapport::customer::ReadOptions&)
                    -> rapport::Result<std::string> {
          if (!crash_view.empty()) Crash(crash_view);
          std::ofstream(marker) << "1\n";
          std::this_thread::sleep_for(std::chrono::milliseconds(slow_view_ms));
          return std::string("null");
        });
  }
  rapport::Status s = (*server)->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::string tmp = std::string(argv[2]) + ".tmp";
  {
    std::ofstream out(tmp);
    out << (*server)->port() << "\n";
  }
  std::filesystem::rename(tmp, argv[2]);
  int code = rapport::server::ServeUntilStopSignal(**server);
  server->reset();
  return code;
}
