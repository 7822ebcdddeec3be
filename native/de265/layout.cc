// Compiled into libde265 itself (see CMakeLists.txt): the library's own view of the layout.
#include "layout.h"

extern "C" __attribute__((visibility("default"))) const char* mvclass_de265_layout() {
  static const std::string layout = mvclass_de265::Layout();
  return layout.c_str();
}
