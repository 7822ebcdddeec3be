// The layout of libde265's private structures that mvclass reads (de265_image's metadata
// arrays, slice headers, motion records, SPS), as the including translation unit sees it.
// libde265 compiles layout.cc into itself and exports this text; the codec addon computes it
// again from the headers it was compiled against and refuses HEVC if the two differ, because a
// header that does not match its library reads garbage without crashing.
#pragma once

#include <cstddef>
#include <string>

#include "libde265/image.h"
#include "libde265/motion.h"
#include "libde265/slice.h"
#include "libde265/sps.h"

namespace mvclass_de265 {

// The metadata arrays are private members that the public inline accessors (get_mv_info,
// get_PartMode, ...) read. An explicit instantiation may name a private member, so this template
// hands out a member pointer to each, for measuring its offset only.
template <typename Tag, typename Tag::type Member>
struct MemberOf {
  friend typename Tag::type member(Tag) { return Member; }
};
#define MVCLASS_DE265_PRIVATE(TAG, TYPE, FIELD)          \
  struct TAG {                                          \
    using type = TYPE de265_image::*;                   \
    friend type member(TAG);                            \
  };                                                    \
  template struct MemberOf<TAG, &de265_image::FIELD>;
MVCLASS_DE265_PRIVATE(SpsTag, std::shared_ptr<const seq_parameter_set>, sps)
MVCLASS_DE265_PRIVATE(CtbInfoTag, MetaDataArray<CTB_info>, ctb_info)
MVCLASS_DE265_PRIVATE(CbInfoTag, MetaDataArray<CB_ref_info>, cb_info)
MVCLASS_DE265_PRIVATE(PbInfoTag, MetaDataArray<PBMotion>, pb_info)
#undef MVCLASS_DE265_PRIVATE

template <typename Tag>
size_t PrivateOffset() {
  alignas(de265_image) static unsigned char storage[sizeof(de265_image)];
  const de265_image* image = reinterpret_cast<const de265_image*>(storage);
  return reinterpret_cast<const unsigned char*>(&(image->*member(Tag()))) - storage;
}

// offsetof on these non-standard-layout classes is conditionally supported; GCC and Clang give
// the real offsets, which is all this comparison needs.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
inline std::string Layout() {
  std::string s;
  auto add = [&s](const char* name, size_t value) {
    s += name;
    s += '=';
    s += std::to_string(value);
    s += ';';
  };
  add("image", sizeof(de265_image));
  add("image.sps", PrivateOffset<SpsTag>());
  add("image.slices", offsetof(de265_image, slices));
  add("image.PicOrderCntVal", offsetof(de265_image, PicOrderCntVal));
  add("image.ctb_info", PrivateOffset<CtbInfoTag>());
  add("image.cb_info", PrivateOffset<CbInfoTag>());
  add("image.pb_info", PrivateOffset<PbInfoTag>());
  add("MetaDataArray", sizeof(MetaDataArray<PBMotion>));
  add("MetaDataArray.width_in_units", offsetof(MetaDataArray<PBMotion>, width_in_units));
  add("CB_ref_info", sizeof(CB_ref_info));
  add("CTB_info", sizeof(CTB_info));
  add("PBMotion", sizeof(PBMotion));
  add("PBMotion.mv", offsetof(PBMotion, mv));
  add("slice", sizeof(slice_segment_header));
  add("slice.slice_type", offsetof(slice_segment_header, slice_type));
  add("slice.RefPicList_POC", offsetof(slice_segment_header, RefPicList_POC));
  add("sps", sizeof(seq_parameter_set));
  add("sps.pic_width", offsetof(seq_parameter_set, pic_width_in_luma_samples));
  add("sps.Log2CtbSizeY", offsetof(seq_parameter_set, Log2CtbSizeY));
  add("sps.PicWidthInCtbsY", offsetof(seq_parameter_set, PicWidthInCtbsY));
  return s;
}
#pragma GCC diagnostic pop

}  // namespace mvclass_de265
