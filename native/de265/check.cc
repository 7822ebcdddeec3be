// Run by scripts/build-de265.sh after the build: the headers the addon compiles against must
// describe the library it loads, field for field.
#include <cstdio>
#include <cstring>

#include "layout.h"

extern "C" const char* mvclass_de265_layout();

int main() {
  const std::string headers = mvclass_de265::Layout();
  const char* library = mvclass_de265_layout();
  if (headers != library) {
    std::fprintf(stderr, "libde265 headers and library disagree:\n  headers: %s\n  library: %s\n",
                 headers.c_str(), library);
    return 1;
  }
  std::printf("libde265 %s: headers match the library (%s)\n", de265_get_version(), library);
  return 0;
}
