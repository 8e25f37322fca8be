# src/pki
