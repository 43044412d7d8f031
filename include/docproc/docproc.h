/* Umbrella header for docproc stage plugins. */
#ifndef DOCPROC_DOCPROC_H
#define DOCPROC_DOCPROC_H
#include <docproc/stage.h>
#endif
