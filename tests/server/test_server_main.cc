// rapport_test_server DATA_DIR: serves DATA_DIR on 127.0.0.1 at a free port,
// prints "port N" on stdout, and runs until killed. Used by the kill -9 test.

#include <cstdio>

#include "server/server.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rapport_test_server DATA_DIR\n");
    return 2;
  }
  rapport::server::ServerOptions options;
  options.data_dir = argv[1];
  options.listen = "127.0.0.1:0";
  options.worker_threads = 8;
  auto server = rapport::server::Server::Open(options);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  rapport::Status s = (*server)->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  (*server)->Wait();
  return 0;
}
