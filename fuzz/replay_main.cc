// Runs every file of the seed corpus folders (the committed one and the one
// fuzz/make_seeds.py generates) through a fuzz target once, so the targets
// build and run in every test run, not only under libFuzzer.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MORE_DIRS...]\n", argv[0]);
    return 2;
  }
  int n = 0;
  for (int d = 1; d < argc; ++d) {
    if (!std::filesystem::is_directory(argv[d])) continue;  // generated seeds may be absent
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[d])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++n;
    }
  }
  std::printf("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
