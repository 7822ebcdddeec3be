{
  "variables": {
    "with_de265": "<!(test -f build-de265/include/libde265/image.h && test -f build-de265/lib/libde265.so && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "mvclass_codec",
      "sources": [
        "native/codec/addon.cc",
        "native/codec/common.cc",
        "native/codec/grid.cc",
        "native/codec/keyframes.cc",
        "native/codec/reader.cc",
        "native/codec/probe.cc",
        "native/codec/encoder.cc",
        "native/codec/binding_reader.cc",
        "native/codec/binding_encoder.cc",
        "native/codec/binding_crop.cc",
        "native/codec/crop.cc",
        "native/codec/transcode.cc",
        "native/codec/quality.cc",
        "native/codec/binding_quality.cc",
        "native/codec/h264/syntax.cc",
        "native/codec/h264/pslice.cc",
        "native/codec/hevc.cc",
        "native/codec/text.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
        "<!@(pkg-config --cflags libavformat libavcodec libavutil libswscale)"
      ],
      "libraries": [
        "<!@(pkg-config --libs libavformat libavcodec libavutil libswscale)"
      ],
      "conditions": [
        # HEVC vectors come from libde265 built by scripts/build-de265.sh; without that build the
        # addon still builds, and HEVC files get an error saying how to add it.
        ["with_de265==1", {
          "defines": ["MVCLASS_WITH_DE265"],
          # -isystem: libde265's private headers are theirs, their warnings are not ours to fix.
          "cflags_cc": ["-isystem", "<(module_root_dir)/build-de265/include"],
          "libraries": [
            "-L<(module_root_dir)/build-de265/lib",
            "-lde265",
            "-Wl,-rpath,'$$ORIGIN/../../build-de265/lib'"
          ]
        }]
      ]
    }
  ]
}
