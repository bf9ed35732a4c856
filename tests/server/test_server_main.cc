// rapport_test_server DATA_DIR PORT_FILE: serves DATA_DIR on 127.0.0.1 at a
// free port, writes the port to PORT_FILE (atomically), and runs until
// killed. Used by the kill -9 test.

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "server/server.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: rapport_test_server DATA_DIR PORT_FILE\n");
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
  std::string tmp = std::string(argv[2]) + ".tmp";
  {
    std::ofstream out(tmp);
    out << (*server)->port() << "\n";
  }
  std::filesystem::rename(tmp, argv[2]);
  (*server)->Wait();
  return 0;
}
