/* The agent's CURVE keys for the engine link: its own pair and the
 * engine's public key, read from the files agent.yaml names (written by
 * herd-agent-setup). The agent talks only to the holder of the engine key
 * it enrolled with: CURVE completes no handshake with any other server.
 *
 * Engine key rotation: the engine pre-publishes its next key over the
 * authenticated link; the agent keeps it in `<engine_key_file>.next`
 * (AGT_KEYS_NEXT_SUFFIX, 0644) until the switch, then renames it over
 * engine_key_file. */
#ifndef AGT_KEYS_H
#define AGT_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "agt_conf.h"
#include "cmn_keys.h"

#define AGT_KEYS_NEXT_SUFFIX ".next"

typedef struct {
    char public_key[CMN_KEY_Z85_LEN + 1];
    char secret_key[CMN_KEY_Z85_LEN + 1];
    char engine_key[CMN_KEY_Z85_LEN + 1];
    bool engine_key_next;       /* engine_key_file is missing: the key came
                                 * from <engine_key_file>.next */
} agt_keys_t;

/* Load conf's key files: the secret key must be private (0600), the public
 * key file must be its pair, the engine key a valid key (taken from
 * <engine_key_file>.next when engine_key_file does not exist). -1 with
 * CMN_ERR_CONFIG naming the file and what to do. */
int agt_keys_load(const agt_conf_t *conf, agt_keys_t *out);

/* Only the host's own pair (engine_key left empty). Same errors. */
int agt_keys_load_pair(const agt_conf_t *conf, agt_keys_t *out);

/* Wipe the secret key from memory. */
void agt_keys_clear(agt_keys_t *k);

/* "<engine_key_file>.next" into out (size bytes). -1 with CMN_ERR_CONFIG
 * if it does not fit. */
int agt_keys_next_path(const agt_conf_t *conf, char *out, size_t size);

/* Read a public key file that may be missing: 1 with the key in out, 0 if
 * the file does not exist, -1 with CMN_ERR_CONFIG naming the file. */
int agt_keys_read_opt(const char *path, char out[CMN_KEY_Z85_LEN + 1]);

/* Pre-publication: keep the engine's next key `z85` in
 * <engine_key_file>.next (0644, temporary file + rename). Nothing is
 * written when that file or engine_key_file already holds the key;
 * *written (may be NULL) says whether the file was written. -1 with an
 * error naming the file (CMN_ERR_INVALID if z85 is not a key). May block
 * (fsync): call it off the loop. */
int agt_keys_save_next(const agt_conf_t *conf, const char *z85, bool *written);

/* The switch: make engine_key_file hold `z85`, by renaming
 * <engine_key_file>.next over it when that file holds the key, else by
 * writing it (0644, atomically); a .next file holding another key is
 * removed. Nothing happens when engine_key_file already holds the key and
 * no .next is left. -1 with an error naming the file. May block. */
int agt_keys_promote(const agt_conf_t *conf, const char *z85);

#endif /* AGT_KEYS_H */
