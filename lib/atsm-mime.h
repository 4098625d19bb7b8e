/* atsm-mime.h -- placeholder */
