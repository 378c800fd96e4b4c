/*
 * ps_stream: one pocketsphinx decoder kept loaded, fed utterances over stdin.
 *
 * Why a helper and not `pocketsphinx_continuous`: the CLI prints final hypotheses only and
 * segments audio with its own voice activity detector; the transcriber needs partial
 * hypotheses while a phrase is spoken, and segments by itself. Loading the model (~110 MB)
 * takes about a second, so the decoder stays up between utterances.
 *
 * stdin: frames of [1 byte tag]['u32 LE length'][payload]:
 *   'S' start an utterance, 'A' audio (16 kHz mono signed 16-bit LE), 'E' end the utterance.
 * stdout: lines "R" (ready), "K\t<samples>" (audio decoded so far in this utterance, every 250 ms
 * of audio: the caller's measure of how far behind the decoder is), "P\t<text>" (partial, when it
 * changes), "F\t<text>" (final).
 * argv: pocketsphinx's own options (-hmm, -lm, -dict, -logfn, ...).
 */
#include <pocketsphinx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_exact(void *buffer, size_t size) {
  return fread(buffer, 1, size, stdin) == size;
}

int main(int argc, char **argv) {
  cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
  if (config == NULL) return 3;
  ps_decoder_t *ps = ps_init(config);
  if (ps == NULL) return 4;
  printf("R\n");
  fflush(stdout);

  size_t capacity = 1 << 16;
  unsigned char *payload = malloc(capacity);
  char last[4096] = "";
  int in_utt = 0;
  /* A partial hypothesis is a backtrace: asked for every 250 ms of audio, not every packet. */
  long since_partial = 0;
  long decoded = 0;
  for (;;) {
    unsigned char header[5];
    if (!read_exact(header, 5)) break;
    uint32_t length = header[1] | header[2] << 8 | header[3] << 16 | (uint32_t)header[4] << 24;
    if (length > capacity) {
      capacity = length;
      payload = realloc(payload, capacity);
    }
    if (length > 0 && !read_exact(payload, length)) break;
    switch (header[0]) {
      case 'S':
        if (in_utt) ps_end_utt(ps);
        ps_start_utt(ps);
        in_utt = 1;
        since_partial = 0;
        decoded = 0;
        last[0] = '\0';
        break;
      case 'A': {
        if (!in_utt) break;
        ps_process_raw(ps, (int16 const *)payload, length / 2, FALSE, FALSE);
        since_partial += length / 2;
        if (since_partial < 4000) break;
        decoded += since_partial;
        since_partial = 0;
        printf("K\t%ld\n", decoded);
        char const *hyp = ps_get_hyp(ps, NULL);
        if (hyp != NULL && hyp[0] != '\0' && strncmp(hyp, last, sizeof last) != 0) {
          strncpy(last, hyp, sizeof last - 1);
          last[sizeof last - 1] = '\0';
          printf("P\t%s\n", last);
        }
        fflush(stdout);
        break;
      }
      case 'E': {
        char const *hyp = NULL;
        if (in_utt) {
          ps_end_utt(ps);
          hyp = ps_get_hyp(ps, NULL);
        }
        in_utt = 0;
        printf("F\t%s\n", hyp == NULL ? "" : hyp);
        fflush(stdout);
        break;
      }
      default:
        break;
    }
  }
  free(payload);
  ps_free(ps);
  cmd_ln_free_r(config);
  return 0;
}
