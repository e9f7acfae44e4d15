/* The agent's CURVE keys for the engine link: its own pair and the
 * engine's public key, read from the files agent.yaml names (written by
 * herd-agent-setup). The agent talks only to the holder of the engine key
 * it enrolled with: CURVE completes no handshake with any other server. */
#ifndef AGT_KEYS_H
#define AGT_KEYS_H

#include "agt_conf.h"
#include "cmn_keys.h"

typedef struct {
    char public_key[CMN_KEY_Z85_LEN + 1];
    char secret_key[CMN_KEY_Z85_LEN + 1];
    char engine_key[CMN_KEY_Z85_LEN + 1];
} agt_keys_t;

/* Load conf's key files: the secret key must be private (0600), the public
 * key file must be its pair, the engine key a valid key. -1 with
 * CMN_ERR_CONFIG naming the file and what to do. */
int agt_keys_load(const agt_conf_t *conf, agt_keys_t *out);

/* Wipe the secret key from memory. */
void agt_keys_clear(agt_keys_t *k);

#endif /* AGT_KEYS_H */
