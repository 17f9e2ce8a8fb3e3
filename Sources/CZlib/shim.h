#ifndef COTAR_CZLIB_SHIM_H
#define COTAR_CZLIB_SHIM_H
#include <zlib.h>
#endif
