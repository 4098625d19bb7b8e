/* atsm-charset.h -- placeholder */
