/* atsm-addr.h -- placeholder */
