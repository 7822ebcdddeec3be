{
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
        "native/codec/h264/syntax.cc",
        "native/codec/h264/pslice.cc"
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
      ]
    }
  ]
}
