SELECT user_hash FROM ops.erasures;
