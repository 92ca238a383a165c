import './styles.css';
import './app/cb-admin-app.js';
