/* Inside of the user operations: look-ups and the checks of a VM spec,
 * shared by eng_ops.c and eng_ops_check.c. */
#ifndef ENG_OPS_PRIV_H
#define ENG_OPS_PRIV_H

#include "eng_ops.h"

/* Find a VM / host by UUID or name into *out. -1 with CMN_ERR_NOT_FOUND
 * (or CMN_ERR_INVALID for an empty reference) recorded. */
int eng_ops_vm_find(eng_ctx_t *ctx, const char *ref, eng_vm_t *out);
int eng_ops_host_find(eng_ctx_t *ctx, const char *ref, eng_host_t *out);

/* Check a VM spec and fill its defaults (cluster, CPU topology, disk ids,
 * interfaces, NIC names, models and MACs, display). self_id: the VM being
 * updated (its own name is not a clash), or NULL. -1 with CMN_ERR_INVALID
 * (or CMN_ERR_EXISTS for a taken name) naming the field. */
int eng_ops_validate(eng_ctx_t *ctx, eng_vm_t *vm, const char *self_id);

#endif /* ENG_OPS_PRIV_H */
