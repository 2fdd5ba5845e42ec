#ifndef CASCADE_CRDKAFKA_SHIM_H
#define CASCADE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif
