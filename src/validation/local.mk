# src/validation
