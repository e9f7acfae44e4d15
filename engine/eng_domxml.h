/* libvirt domain XML, built by the engine from the VM spec (the agent stays
 * thin). Every string is XML-escaped. */
#ifndef ENG_DOMXML_H
#define ENG_DOMXML_H

#include <stdbool.h>

#include "eng_store.h"

typedef struct {
    bool kvm;                   /* <domain type='kvm'> else 'qemu' */
    const char *firmware;       /* ROM loader path (qboot); NULL = default BIOS */
    const char *machine;        /* NULL = "pc" */
    const char *emulator;       /* NULL = let libvirt pick */
} eng_domxml_opts_t;

/* Build the XML for `vm`; every disk must have its path set. Returns a
 * malloc'd string (caller frees) or NULL with CMN_ERR_INVALID/NOMEM
 * recorded. */
char *eng_domxml_build(const eng_vm_t *vm, const eng_domxml_opts_t *opts);

#endif /* ENG_DOMXML_H */
