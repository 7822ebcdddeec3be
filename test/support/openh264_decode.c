/* Decodes an Annex-B H.264 file with OpenH264, an independent decoder, and prints one line per
 * decoded picture (its luma/chroma checksum, FNV-1a over the visible samples), then a summary
 * "frames=N errors=M". The mvclass tests compare these with FFmpeg's decode of the same file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wels/codec_api.h>

static uint64_t fnv(uint64_t h, const unsigned char *p, int n) {
  for (int i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static int emit(const SBufferInfo *info, unsigned char **planes) {
  if (info->iBufferStatus != 1) return 0;
  const SSysMEMBuffer *b = &info->UsrData.sSystemBuffer;
  uint64_t h = 14695981039346656037ULL; /* FNV-1a 64-bit offset basis */
  for (int p = 0; p < 3; p++) {
    int w = p ? b->iWidth / 2 : b->iWidth, ht = p ? b->iHeight / 2 : b->iHeight;
    int stride = b->iStride[p ? 1 : 0];
    for (int y = 0; y < ht; y++) h = fnv(h, planes[p] + (size_t)y * stride, w);
  }
  printf("frame %dx%d %016llx\n", b->iWidth, b->iHeight, (unsigned long long)h);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s file.264\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(size > 0 ? size : 1);
  if (!data || fread(data, 1, size, f) != (size_t)size) {
    fprintf(stderr, "%s: read failed\n", argv[1]);
    return 2;
  }
  fclose(f);

  ISVCDecoder *dec = NULL;
  if (WelsCreateDecoder(&dec) != 0 || !dec) {
    fprintf(stderr, "cannot create the OpenH264 decoder\n");
    return 2;
  }
  SDecodingParam param;
  memset(&param, 0, sizeof param);
  param.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
  param.eEcActiveIdc = ERROR_CON_DISABLE;
  if ((*dec)->Initialize(dec, &param) != 0) {
    fprintf(stderr, "cannot initialise the OpenH264 decoder\n");
    return 2;
  }

  /* Feed whole access units to DecodeFrameNoDelay (the API's recommended use): a picture starts
   * at a slice whose first_mb_in_slice is 0 (ue(v) '1': top bit set), or at SEI/SPS/PPS/AUD
   * after a slice. */
  int frames = 0, errors = 0;
  long auStart = -1, nal = -1;
  int auHasSlice = 0;
  for (long i = 0; i <= size; i++) {
    int code = i + 3 <= size && data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1;
    if (!code && i < size) continue;
    if (code) {
      long s = i;
      while (s > 0 && data[s - 1] == 0) s--; /* the zero of a 4-byte start code */
      nal = i + 3;
      if (nal < size) {
        int type = data[nal] & 0x1f;
        int vcl = type == 1 || type == 5;
        int first = vcl && nal + 1 < size && (data[nal + 1] & 0x80);
        int newAu = auHasSlice && (first || (type >= 6 && type <= 9));
        if (newAu) {
          unsigned char *planes[3] = {0};
          SBufferInfo info;
          memset(&info, 0, sizeof info);
          if ((*dec)->DecodeFrameNoDelay(dec, data + auStart, (int)(s - auStart), planes, &info) != dsErrorFree) errors++;
          frames += emit(&info, planes);
          auStart = -1;
          auHasSlice = 0;
        }
        if (auStart < 0) auStart = s;
        if (vcl) auHasSlice = 1;
      }
      i += 2;
    } else if (auStart >= 0) { /* end of data */
      unsigned char *planes[3] = {0};
      SBufferInfo info;
      memset(&info, 0, sizeof info);
      if ((*dec)->DecodeFrameNoDelay(dec, data + auStart, (int)(size - auStart), planes, &info) != dsErrorFree) errors++;
      frames += emit(&info, planes);
    }
  }
  for (;;) { /* pictures the decoder still holds */
    unsigned char *planes[3] = {0};
    SBufferInfo info;
    memset(&info, 0, sizeof info);
    (*dec)->FlushFrame(dec, planes, &info);
    if (!emit(&info, planes)) break;
    frames++;
  }
  printf("frames=%d errors=%d\n", frames, errors);
  (*dec)->Uninitialize(dec);
  WelsDestroyDecoder(dec);
  free(data);
  return errors ? 1 : 0;
}
