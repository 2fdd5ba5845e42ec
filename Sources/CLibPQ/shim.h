#ifndef CASCADE_CLIBPQ_SHIM_H
#define CASCADE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
