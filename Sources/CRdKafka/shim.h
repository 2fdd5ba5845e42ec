#ifndef CASCADE_CRDKAFKA_SHIM_H
#define CASCADE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
// The mock cluster backs fault-injection tests and the embedded demo broker of `make run`.
#include <librdkafka/rdkafka_mock.h>
#endif
